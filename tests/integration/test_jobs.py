"""Jobs (osh-cluster-mgmt): power actions across servers as durable jobs.

The scheduler's rules, tested against a small worker of this file's own
that consumes osh:power-requests in group "server-mgmt" and answers on
osh:power-results the way POWER-STREAMS.md says, with a behaviour chosen
per server (ok, busy once, auth failure, silence): server-mgmt's own power
worker (OSH_POWER_WORKER) is off while this file runs, so that the two do
not share the requests. Jobs end to end against server-mgmt and the
simulator's counters: test_jobs_e2e.py."""
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (OFF, REDIS_PORT, RUN, TOP, psql, redis, server_body,
                      sim, sse_read, wait_for)

# Simulated BMCs of this file's own (nothing else uses these ports).
JOB_FLEET = RUN / "jobfleet"
JOB_FLEET_PORT = 9700 + OFF
JOB_FLEET_COUNT = 6


class Resp:
    """A minimal Redis client (RESP2) for the fake worker."""

    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", REDIS_PORT), 5)
        self.f = self.s.makefile("rb")
        pw = (RUN / "secrets" / "redis-password").read_text().strip()
        self.cmd("AUTH", pw)

    def cmd(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = str(a).encode()
            out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
        self.s.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def close(self):
        self.s.close()


class FakeWorker(threading.Thread):
    """Answers power requests: behaviour[server_id] is "ok" (default),
    "busy1" (bmc_busy on the first attempt), "auth" (auth_failed),
    "silent" (never answers) or "noeffect" (accepts, state unchanged)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.r = Resp()
        self.behaviour = {}
        self.power = {}
        self.seen = []  # (time, request fields)
        self.stop = False
        self.r.cmd("XGROUP", "CREATE", "osh:power-requests", "server-mgmt",
                   "$", "MKSTREAM")

    def run(self):
        while not self.stop:
            rep = self.r.cmd("XREADGROUP", "GROUP", "server-mgmt", "fake",
                             "COUNT", "100", "BLOCK", "200", "STREAMS",
                             "osh:power-requests", ">")
            if not rep or isinstance(rep, Exception):
                continue
            for eid, fields in rep[0][1]:
                req = dict(zip(fields[::2], fields[1::2]))
                self.seen.append((time.time(), req))
                self.answer(req)
                self.r.cmd("XACK", "osh:power-requests", "server-mgmt", eid)

    def answer(self, req):
        sid = int(req["server_id"])
        how = self.behaviour.get(sid, "ok")
        act = req["action"]
        res = {"result": "ok", "error": "", "message": ""}
        if how == "silent":
            return
        if how == "auth":
            res = {"result": "error", "error": "auth_failed",
                   "message": "wrong password"}
        elif how == "busy1" and act != "status" and req["attempt"] == "1":
            res = {"result": "error", "error": "bmc_busy",
                   "message": "busy"}
        elif act in ("on", "cycle", "reset") and how != "noeffect":
            self.power[sid] = "on"
        elif act in ("off", "soft") and how != "noeffect":
            self.power[sid] = "off"
        fields = dict(req, v="1", power_state=self.power.get(sid, "off"),
                      executed_at=str(int(time.time() * 1000)), **res)
        fields.pop("deadline_ms", None)
        fields.pop("requested_by", None)
        fields.pop("trace", None)
        args = ["XADD", "osh:power-results", "*"]
        for k, v in fields.items():
            args += [k, v]
        self.r.cmd(*args)

    def requests_for(self, sid, action=None):
        return [r for _, r in self.seen if int(r["server_id"]) == sid and
                (action is None or r["action"] == action)]


def restart_server_mgmt(**extra):
    """server-mgmt stopped and started again by stack.sh, with extra
    settings on top of the stack's."""
    pid = int((RUN / "pids" / "server-mgmt.pid").read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30,
             what="osh-server-mgmt to stop")
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "start",
                    "server-mgmt"], check=True, capture_output=True,
                   timeout=120, env=dict(os.environ, **extra))


@pytest.fixture(scope="module")
def worker():
    restart_server_mgmt(OSH_POWER_WORKER="false")
    w = FakeWorker()
    w.start()
    try:
        yield w
    finally:
        w.stop = True
        w.join(2)
        restart_server_mgmt()


def tag():
    return secrets.token_hex(3)


def read_model_has(sid):
    return psql("SELECT has_credentials FROM cluster_mgmt.servers "
                f"WHERE id = {sid}") == "t"


@pytest.fixture(scope="module")
def servers(admin):
    """Six servers with credentials, two racks, known to cluster-mgmt."""
    sim("up", str(JOB_FLEET), "--count", str(JOB_FLEET_COUNT), "--port",
        str(JOB_FLEET_PORT))
    ids = []
    for i in range(JOB_FLEET_COUNT):
        r = admin.post("/api/servers", server_body(
            JOB_FLEET_PORT + i, name=f"job-{i}-{tag()}",
            labels={"rack": f"r{i % 2}", "jobtest": "yes"}))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    wait_for(lambda: all(read_model_has(s) for s in ids), timeout=20,
             what="the read model")
    yield ids
    for s in ids:
        admin.delete(f"/api/servers/{s}")
    sim("down", str(JOB_FLEET))


def wait_job(api, jid, states=("succeeded", "failed", "cancelled"),
             timeout=30):
    return wait_for(lambda: (lambda j: j if j["state"] in states else None)(
        api.get(f"/api/jobs/{jid}").json()), timeout=timeout,
        what=f"job {jid} in {states}")


def tasks(api, jid):
    r = api.get(f"/api/jobs/{jid}/tasks", params={"limit": "1000"})
    assert r.status_code == 200, r.text
    return {t["server_id"]: t for t in r.json()["items"]}


def test_power_on_verified(operator, worker, servers, events):
    r = operator.post("/api/jobs", {"action": "on",
                                    "targets": {"server_ids": servers[:3]}})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] in ("queued", "running") and job["total"] == 3
    assert job["options"]["concurrency"] == 32
    assert job["options"]["verify"] is True
    done = wait_job(operator, job["id"])
    assert done["state"] == "succeeded", done
    assert done["counts"]["succeeded"] == 3
    for t in tasks(operator, job["id"]).values():
        assert t["state"] == "succeeded" and t["attempts"] == 1
        assert t["accepted_at"] and t["achieved_at"]
        assert t["power_state"] == "on"
    for s in servers[:3]:
        reqs = worker.requests_for(s, "on")
        assert [x["request_id"] for x in reqs if
                x["job_id"] == str(job["id"])] == \
            [f"{job['id']}.{tasks(operator, job['id'])[s]['id']}.1"]
    types = {e["type"] for e in events.wait(
        lambda e: e["type"] == "job.finished" and
        e["data"]["id"] == job["id"])}
    assert "job.finished" in types
    assert events.wait(lambda e: e["type"] == "job.created" and
                       e["data"]["id"] == job["id"])


def test_status_job_reads_power_state(operator, worker, servers):
    """status: one read per server, the state read in the task, nothing
    verified and nothing changed."""
    a, b = servers[4], servers[5]
    worker.power[a], worker.power[b] = "on", "off"
    r = operator.post("/api/jobs", {"action": "status",
                                    "targets": {"server_ids": [a, b]}})
    assert r.status_code == 201, r.text
    assert r.json()["target_state"] is None
    assert r.json()["options"]["verify"] is False
    done = wait_job(operator, r.json()["id"])
    assert done["state"] == "succeeded", done
    ts = tasks(operator, done["id"])
    assert (ts[a]["power_state"], ts[b]["power_state"]) == ("on", "off")
    for s in (a, b):
        assert ts[s]["accepted_at"] and ts[s]["achieved_at"] is None
        assert [x["action"] for x in worker.requests_for(s) if
                x["job_id"] == str(done["id"])] == ["status"]
    assert (worker.power[a], worker.power[b]) == ("on", "off")


def test_verify_not_achieved(operator, worker, servers):
    s = servers[3]
    worker.behaviour[s] = "noeffect"
    worker.power[s] = "on"
    try:
        r = operator.post("/api/jobs", {
            "action": "off", "targets": {"server_ids": [s]},
            "verify_timeout_s": 2})
        assert r.status_code == 201, r.text
        done = wait_job(operator, r.json()["id"])
        t = tasks(operator, done["id"])[s]
        assert done["state"] == "failed"
        assert t["state"] == "failed" and t["error"] == "not_achieved"
        assert t["accepted_at"] and t["achieved_at"] is None
        assert worker.requests_for(s, "status")  # it polled
    finally:
        worker.behaviour.pop(s)


def test_transient_retried_permanent_not_then_retry_job(operator, worker,
                                                        servers):
    busy, bad, good = servers[0], servers[1], servers[2]
    worker.behaviour.update({busy: "busy1", bad: "auth"})
    try:
        r = operator.post("/api/jobs", {
            "action": "diag", "targets": {"server_ids": [busy, bad, good]},
            "backoff_ms": 100})
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        done = wait_job(operator, jid)
        ts = tasks(operator, jid)
        assert ts[busy]["state"] == "succeeded" and \
            ts[busy]["attempts"] == 2
        assert ts[bad]["state"] == "failed" and ts[bad]["attempts"] == 1
        assert ts[bad]["error"] == "auth_failed"
        assert ts[good]["attempts"] == 1
        assert done["state"] == "failed"
        assert len([x for x in worker.requests_for(bad)
                    if x["job_id"] == str(jid)]) == 1
    finally:
        worker.behaviour.pop(bad)
        worker.behaviour.pop(busy)
    # Retry: a new linked job of the failed task only.
    r = operator.post(f"/api/jobs/{jid}/retry")
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["retry_of"] == jid and again["total"] == 1
    assert list(tasks(operator, again["id"])) == [bad]
    assert wait_job(operator, again["id"])["state"] == "succeeded"
    r = operator.post(f"/api/jobs/{again['id']}/retry")
    assert r.status_code == 409


def test_dry_run_plan(operator, admin, servers):
    r = admin.post("/api/servers", {"name": f"nocred-{tag()}",
                                    "bmc_address": "127.0.0.9:1",
                                    "labels": {"jobtest": "yes"}})
    nocred = r.json()["id"]
    wait_for(lambda: psql("SELECT count(*) FROM cluster_mgmt.servers "
                          f"WHERE id = {nocred}") == "1", what="read model")
    try:
        r = operator.post("/api/jobs", {
            "action": "on", "targets": {"selector": "jobtest=yes"},
            "dry_run": True,
            "stagger": {"count": 4, "interval_s": 2, "label": "rack",
                        "label_count": 1}})
        assert r.status_code == 200, r.text
        plan = r.json()
        assert plan["dry_run"] is True
        assert sorted(s["id"] for s in plan["servers"]) == sorted(servers)
        assert {"id": nocred, "reason": "no_credentials"}.items() <= \
            [x for x in plan["left_out"] if x["id"] == nocred][0].items()
        # One per rack per wave, two racks: three waves of two.
        assert [len(w["server_ids"]) for w in plan["waves"]] == [2, 2, 2]
        assert plan["estimated_duration_s"] >= 6
        assert operator.get("/api/jobs", params={
            "limit": "1"}).json()["items"][0].get("dry_run") is None
    finally:
        admin.delete(f"/api/servers/{nocred}")


def test_idempotency_key(operator, worker, servers):
    key = "k-" + tag()
    body = {"action": "identify", "identify_seconds": 5,
            "targets": {"server_ids": servers[:1]}}
    a = operator.post("/api/jobs", body, headers={"Idempotency-Key": key})
    b = operator.post("/api/jobs", body, headers={"Idempotency-Key": key})
    assert a.status_code == 201 and b.status_code == 200, (a.text, b.text)
    assert a.json()["id"] == b.json()["id"]
    assert b.headers.get("Idempotency-Replayed") == "true"
    c = operator.post("/api/jobs", dict(body, identify_seconds=6),
                      headers={"Idempotency-Key": key})
    assert c.status_code == 422, c.text
    assert a.json()["request_action"] == "identify:5"


def test_pause_resume_cancel_and_stagger(operator, worker, servers):
    r = operator.post("/api/jobs", {
        "action": "cycle", "targets": {"server_ids": servers},
        "stagger": {"count": 1, "interval_s": 2}, "verify": False})
    assert r.status_code == 201, r.text
    jid = r.json()["id"]

    def sent():
        return [t for t, x in worker.seen if x["job_id"] == str(jid)]
    wait_for(lambda: len(sent()) >= 1, what="the first request")
    assert operator.post(f"/api/jobs/{jid}/pause").json()["state"] == \
        "paused"
    n = len(sent())
    time.sleep(2.5)
    assert len(sent()) == n  # nothing sent while paused
    assert operator.post(f"/api/jobs/{jid}/pause").status_code == 409
    assert operator.post(f"/api/jobs/{jid}/resume").json()["state"] == \
        "running"
    wait_for(lambda: len(sent()) >= n + 1, what="a request after resume")
    r = operator.post(f"/api/jobs/{jid}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    n = len(sent())
    time.sleep(2.5)
    assert len(sent()) == n  # nothing after the cancel
    ts = tasks(operator, jid)
    assert {t["state"] for t in ts.values()} <= {"succeeded", "cancelled"}
    assert any(t["state"] == "cancelled" for t in ts.values())
    times = sorted(sent())
    assert all(b - a >= 1.8 for a, b in zip(times, times[1:])), times
    assert operator.post(f"/api/jobs/{jid}/resume").status_code == 409


def test_lease_conflict(operator, worker, servers):
    s = servers[4]
    worker.behaviour[s] = "silent"
    try:
        a = operator.post("/api/jobs", {"action": "reset", "timeout_s": 30,
                                        "targets": {"server_ids": [s]}})
        assert a.status_code == 201
        wait_for(lambda: tasks(operator, a.json()["id"])[s]["state"] ==
                 "dispatched", what="a dispatched task")
        b = operator.post("/api/jobs", {"action": "on", "on_conflict": "skip",
                                        "targets": {"server_ids": [s]}})
        done = wait_job(operator, b.json()["id"])
        t = tasks(operator, done["id"])[s]
        assert t["state"] == "skipped" and t["error"] == "leased"
        assert not [x for x in worker.requests_for(s)
                    if x["job_id"] == str(done["id"])]
        operator.post(f"/api/jobs/{a.json()['id']}/cancel")
    finally:
        worker.behaviour.pop(s)


def test_validation_and_permissions(operator, viewer):
    bad = [
        ({"action": "explode", "targets": {"server_ids": [1]}}, "action"),
        ({"action": "on"}, "targets"),
        ({"action": "on", "targets": {"server_ids": [1], "cluster": 2}},
         "targets"),
        ({"action": "on", "targets": {"selector": "a in ("}}, "targets"),
        ({"action": "on", "targets": {"server_ids": [1]},
          "concurrency": 257}, "concurrency"),
        ({"action": "on", "targets": {"server_ids": [1]},
          "max_failures": "x%"}, "max_failures"),
        ({"action": "diag", "targets": {"server_ids": [1]},
          "verify": True}, "verify"),
        ({"action": "boot", "targets": {"server_ids": [1]}}, "boot"),
        ({"action": "on", "targets": {"server_ids": [1]},
          "not_before": "tomorrow"}, "not_before"),
    ]
    for body, field in bad:
        r = operator.post("/api/jobs", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] == field, (body, r.text)
    r = operator.post("/api/jobs", {"action": "on",
                                    "targets": {"cluster": 999999999}})
    assert r.status_code == 400 and r.json()["error"]["field"] == "targets"
    assert viewer.post("/api/jobs", {
        "action": "on", "targets": {"server_ids": [1]}}).status_code == 403
    assert viewer.get("/api/jobs").status_code == 200
    assert viewer.get("/api/jobs/999999999").status_code == 404
    assert operator.get("/api/jobs", params={"state": "x"}).status_code == 400


def test_canary_pauses_then_budget_skips(operator, worker, servers):
    first = min(servers[:4])
    worker.behaviour[first] = "auth"
    try:
        r = operator.post("/api/jobs", {
            "action": "diag", "targets": {"server_ids": servers[:4]},
            "canary": 1})
        jid = r.json()["id"]
        paused = wait_job(operator, jid, states=("paused",))
        assert "canary" in paused["reason"]
        ts = tasks(operator, jid)
        assert ts[first]["canary"] and ts[first]["state"] == "failed"
        assert {ts[s]["state"] for s in servers[:4] if s != first} == \
            {"pending"}
        operator.post(f"/api/jobs/{jid}/resume")
        done = wait_job(operator, jid)
        assert done["state"] == "failed" and done["counts"]["succeeded"] == 3
        # A budget of no failure: the first failure skips the rest (every
        # server fails here, so whichever goes first, one fails).
        for s in servers[:4]:
            worker.behaviour[s] = "auth"
        r = operator.post("/api/jobs", {
            "action": "diag", "targets": {"server_ids": servers[:4]},
            "concurrency": 1, "max_failures": 0})
        done = wait_job(operator, r.json()["id"])
        ts = tasks(operator, done["id"])
        assert done["state"] == "failed" and "max_failures" in done["reason"]
        states = sorted(t["state"] for t in ts.values())
        assert states == ["failed", "skipped", "skipped", "skipped"], ts
        assert {t["error"] for t in ts.values() if t["state"] == "skipped"} \
            == {"budget_exceeded"}
    finally:
        for s in servers[:4]:
            worker.behaviour.pop(s, None)


def test_stagger_per_label(operator, worker, servers):
    r = operator.post("/api/jobs", {
        "action": "on", "targets": {"server_ids": servers}, "verify": False,
        "stagger": {"count": 10, "interval_s": 1, "label": "rack",
                    "label_count": 1}})
    jid = r.json()["id"]
    assert wait_job(operator, jid)["state"] == "succeeded"
    rack = {s: f"r{i % 2}" for i, s in enumerate(servers)}
    for rk in ("r0", "r1"):
        times = sorted(t for t, x in worker.seen if x["job_id"] == str(jid)
                       and rack[int(x["server_id"])] == rk)
        assert len(times) == 3
        assert all(b - a >= 0.9 for a, b in zip(times, times[1:])), times


def test_sse_resumes_without_loss(operator, worker, servers):
    r = operator.post("/api/jobs", {
        "action": "on", "targets": {"server_ids": servers[:4]},
        "verify": False, "stagger": {"count": 1, "interval_s": 1}})
    jid = r.json()["id"]
    url = f"/api/jobs/{jid}/events"
    # No ticket, or a made-up one: refused.
    assert operator.get(url, token=None).status_code == 401
    t = operator.post(f"{url}/ticket")
    assert t.status_code == 201, t.text
    ticket = t.json()["ticket"]
    first = sse_read(f"{url}?ticket={ticket}",
                     stop=lambda g: len([e for e in g
                                         if e["event"] == "task"]) >= 2)
    # The ticket worked once.
    assert operator.get(f"{url}?ticket={ticket}", token=None).status_code \
        == 401
    t2 = operator.post(f"{url}/ticket").json()["ticket"]
    rest = sse_read(f"{url}?ticket={t2}", last=first[-1]["id"])
    assert rest and rest[-1]["event"] == "job"
    assert json.loads(rest[-1]["data"])["state"] == "succeeded"
    ids = [e["id"] for e in first + rest]
    assert len(ids) == len(set(ids))
    all_ids = [x for x in redis("XRANGE", f"osh:job:{jid}:events", "-",
                                "+").split() if "-" in x and
               x.strip('"').split("-")[0].isdigit()]
    assert ids == [x.strip('"') for x in all_ids]
    tasks_done = {json.loads(e["data"])["server_id"] for e in first + rest
                  if e["event"] == "task"}
    assert tasks_done == set(servers[:4])
    ttl = int(redis("TTL", f"osh:job:{jid}:events"))
    assert 0 < ttl <= 86400


def test_audited_and_pruned(admin, operator, worker, servers):
    r = operator.post("/api/jobs", {"action": "diag",
                                    "targets": {"server_ids": servers[:1]},
                                    "not_before": "2099-01-01T00:00:00Z"})
    jid = r.json()["id"]
    assert r.json()["state"] == "queued"
    operator.post(f"/api/jobs/{jid}/pause")
    operator.post(f"/api/jobs/{jid}/cancel")
    operator.post(f"/api/jobs/{jid}/resume")  # refused: cancelled
    want = {("job.create", "success"), ("job.pause", "success"),
            ("job.cancel", "success"), ("job.resume", "failure")}

    def seen():
        got = {(e["action"], e["result"]) for e in admin.get(
            "/api/audit", params={"target": f"job:{jid}",
                                  "limit": "100"}).json()["items"]}
        return want <= got and got
    wait_for(seen, what="audit entries")
    assert not worker.requests_for(servers[0], "diag") or all(
        x["job_id"] != str(jid) for x in worker.requests_for(servers[0]))
    # Retention: a job that ended long ago goes with its tasks.
    psql(f"UPDATE cluster_mgmt.jobs SET finished_at = now() - "
         f"interval '31 days' WHERE id = {jid}")
    assert '"pruned": 1' in psql("SET search_path = cluster_mgmt; "
                                 "SELECT jobs_prune(30)")
    assert operator.get(f"/api/jobs/{jid}").status_code == 404
    assert psql(f"SELECT count(*) FROM cluster_mgmt.tasks "
                f"WHERE job_id = {jid}") == "0"


def test_lost_attempt_is_retried(operator, worker, servers):
    """A request nobody answers: past its deadline and the grace
    (OSH_JOB_LOST_GRACE_MS, 10 s) the attempt is lost, and the next one
    goes out with a new request id."""
    s = servers[5]
    worker.behaviour[s] = "silent"
    try:
        r = operator.post("/api/jobs", {
            "action": "diag", "targets": {"server_ids": [s]},
            "timeout_s": 1, "retries": 1, "backoff_ms": 100})
        jid = r.json()["id"]
        wait_for(lambda: [x for x in worker.requests_for(s)
                          if x["job_id"] == str(jid)], what="attempt 1")
        worker.behaviour[s] = "ok"
        done = wait_job(operator, jid, timeout=30)
        t = tasks(operator, jid)[s]
        assert done["state"] == "succeeded" and t["attempts"] == 2
        ids = [x["request_id"] for x in worker.requests_for(s)
               if x["job_id"] == str(jid)]
        assert ids == [f"{jid}.{t['id']}.1", f"{jid}.{t['id']}.2"]
    finally:
        worker.behaviour.pop(s, None)


def test_cluster_mgmt_killed_mid_job(operator, worker, servers):
    """SIGKILL cluster-mgmt while a job runs: the restarted service
    resumes it, and no request is sent twice."""
    import os
    import signal
    import subprocess
    from conftest import TOP
    r = operator.post("/api/jobs", {
        "action": "cycle", "targets": {"server_ids": servers},
        "verify": False, "stagger": {"count": 1, "interval_s": 1}})
    jid = r.json()["id"]
    wait_for(lambda: len([1 for _, x in worker.seen
                          if x["job_id"] == str(jid)]) >= 2,
             what="two requests")
    pid = int((RUN / "pids" / "cluster-mgmt.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="exit")
    time.sleep(1.5)
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "up"],
                   check=True, env=dict(os.environ), capture_output=True,
                   timeout=120)
    # (A POST on a connection nginx kept to the old process fails once:
    # the GETs here use those up; nginx retries a GET elsewhere.)
    done = wait_job(operator, jid, timeout=60)
    assert done["state"] == "succeeded", done
    ids = [x["request_id"] for _, x in worker.seen
           if x["job_id"] == str(jid)]
    assert len(ids) == len(set(ids)) == len(servers), ids
    assert all(t["attempts"] == 1 for t in tasks(operator, jid).values())

"""server-mgmt's power worker (issue 9): requests written straight onto
osh:power-requests (no cluster-mgmt needed), results read from
osh:power-results, and what each simulated BMC received read from the
simulator's own log of chassis commands (osh-sim commands)."""
import json
import os
import secrets
import signal
import socket
import subprocess
import time

import pytest

from conftest import (OFF, PORTS, REDIS_PORT, RUN, SIM, TOP, server_body,
                      sim, wait_for)

REQUESTS = "osh:power-requests"
RESULTS = "osh:power-results"
DEAD = "osh:power-requests:dead"
GROUP = "server-mgmt"
# Simulated BMCs of this file's own, beside the others' port ranges.
PS_FLEET = RUN / "psfleet"
PS_PORT = 9600 + OFF
PS_COUNT = 24
PS_SILENT = 9630 + OFF


class RespError(Exception):
    pass


class Redis:
    """A plain RESP client: values as str, arrays as lists."""

    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", REDIS_PORT), 10)
        self.f = self.s.makefile("rb")
        self.call("AUTH", (RUN / "secrets" / "redis-password")
                  .read_text().strip())

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self._read()

    def _read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode(
                errors="replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RespError(f"unexpected reply {line!r}")

    def close(self):
        self.s.close()


def fields(flat):
    return dict(zip(flat[::2], flat[1::2]))


def now_ms():
    return int(time.time() * 1000)


def request(rid, server_id, action, deadline_ms=None, **extra):
    job, task, attempt = (rid.split(".") + ["1", "1", "1"])[:3]
    f = {"v": "1", "request_id": rid, "job_id": job, "task_id": task,
         "attempt": attempt, "server_id": str(server_id), "action": action,
         "deadline_ms": str(deadline_ms or now_ms() + 30000),
         "requested_by": "power-stream-test", "trace": f"t-{rid}"}
    f.update(extra)
    return f


def xadd(r, key, f):
    args = ["XADD", key, "*"]
    for k, v in f.items():
        args += [k, v]
    return r.call(*args)


def results(r, rids):
    """Results so far of these request ids, each a list in order."""
    want = set(rids)
    got = {}
    for eid, flat in r.call("XRANGE", RESULTS, "-", "+"):
        f = fields(flat)
        if f.get("request_id") in want:
            f["_id"] = eid
            got.setdefault(f["request_id"], []).append(f)
    return got


def wait_results(r, rids, timeout=30, count=1):
    return wait_for(lambda: (lambda g: g if all(
        len(g.get(x, [])) >= count for x in rids) else None)(
            results(r, rids)), timeout=timeout, interval=0.1,
        what=f"results of {len(rids)} power requests")


def new_job():
    return str(10 ** 9 + secrets.randbelow(10 ** 9))


def commands(bmc=None):
    args = ["commands", str(PS_FLEET)] + ([bmc] if bmc else [])
    return json.loads(sim(*args))


def power_offs(cmds, name):
    return cmds[name]["counts"].get("power 0", 0)


def metric(name):
    import requests
    text = requests.get(f"http://127.0.0.1:{PORTS['server-mgmt']}/metrics",
                        timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def pid_of(svc):
    return int((RUN / "pids" / f"{svc}.pid").read_text())


@pytest.fixture(scope="module")
def rds():
    r = Redis()
    yield r
    r.close()


@pytest.fixture(scope="module")
def ps(admin):
    """PS_COUNT simulated BMCs registered as servers, a silent one, one
    with the wrong password and one without credentials: {"ids": [...]
    (index i is BMC ps i), "names": [...], "silent", "wrong", "nocreds"}."""
    sim("up", str(PS_FLEET), "--count", str(PS_COUNT), "--port",
        str(PS_PORT))
    sim("add", str(PS_FLEET), "--kind", "silent", "--port", str(PS_SILENT))
    fleet = json.loads(sim("show", str(PS_FLEET)))["bmcs"]
    by_port = {b["port"]: b["name"] for b in fleet}
    made = {"ids": [], "names": []}
    tag = secrets.token_hex(3)
    for i in range(PS_COUNT):
        r = admin.post("/api/servers", server_body(
            PS_PORT + i, name=f"ps-{tag}-{i}", monitoring=False))
        assert r.status_code == 201, r.text
        made["ids"].append(r.json()["id"])
        made["names"].append(by_port[PS_PORT + i])
    r = admin.post("/api/servers", server_body(
        PS_SILENT, name=f"ps-{tag}-silent", monitoring=False))
    assert r.status_code == 201, r.text
    made["silent"] = r.json()["id"]
    # The wrong password for a BMC that answers: server-mgmt's BMC
    # addresses are unique, so the last of the fleet has it.
    body = server_body(PS_PORT + PS_COUNT - 1, name=f"ps-{tag}-wrong",
                       monitoring=False)
    body["credentials"]["password"] = "not-the-password"
    admin.delete(f"/api/servers/{made['ids'][-1]}")
    made["ids"].pop()
    made["names"].pop()
    r = admin.post("/api/servers", body)
    assert r.status_code == 201, r.text
    made["wrong"] = r.json()["id"]
    body = server_body(9640 + OFF, name=f"ps-{tag}-nocreds",
                       monitoring=False)
    del body["credentials"]
    r = admin.post("/api/servers", body)
    assert r.status_code == 201, r.text
    made["nocreds"] = r.json()["id"]
    yield made
    for sid in made["ids"] + [made["silent"], made["wrong"],
                              made["nocreds"]]:
        admin.delete(f"/api/servers/{sid}")
    sim("down", str(PS_FLEET))


def test_every_action_answers(rds, ps):
    sid, name = ps["ids"][0], ps["names"][0]
    commands(name)
    sim("commands", str(PS_FLEET), name, "--clear")
    job = new_job()
    actions = ["status", "off", "on", "soft", "on", "cycle", "reset",
               "diag", "boot:pxe", "boot:disk:persistent:efi",
               "identify:5", "identify:off", "explode"]
    rids = []
    for i, action in enumerate(actions):
        rid = f"{job}.{i + 1}.1"
        rids.append(rid)
        xadd(rds, REQUESTS, request(rid, sid, action))
    got = wait_results(rds, rids)
    by_action = {a: got[rid][0] for a, rid in zip(actions, rids)}
    for action, res in by_action.items():
        assert res["v"] == "1" and res["server_id"] == str(sid)
        assert res["action"] == action
        assert res["duplicate"] == "0"
        assert int(res["executed_at"]) > 0
        if action in ("diag", "explode"):
            assert res["result"] == "error", res
            assert res["error"] == "unsupported", res
        else:
            assert res["result"] == "ok", res
            assert res["error"] == ""
    assert by_action["status"]["power_state"] in ("on", "off")
    assert by_action["off"]["power_state"] == "off"
    assert by_action["boot:pxe"]["power_state"] in ("on", "off")
    # The refused action is kept for people to look at.
    dead = [fields(f) for _, f in rds.call("XRANGE", DEAD, "-", "+")]
    assert any(d.get("request_id") == rids[-1] for d in dead)
    # What the BMC received: one command per request (a cycle is "power
    # 0" and, a second later, the BMC's own "power 1"). Requests for one
    # BMC run in no particular order: cluster-mgmt sends one at a time.
    time.sleep(1.5)
    cmds = commands(name)[name]
    counts = cmds["counts"]
    assert counts.get("power 0") == 2, counts  # off, cycle
    # on, on (and the cycle's own, unless a later command cut it short)
    assert counts.get("power 1") in (2, 3), counts
    assert counts.get("shutdown 1") == 1, counts
    assert counts.get("reset 1") == 1, counts
    assert counts.get("boot pxe") == 1, counts
    assert sum(v for k, v in counts.items() if k.startswith("boot")) == 2
    assert counts.get("identify 5") == 1, counts
    # The per-BMC gap (OSH_BMC_MIN_GAP_MS, 200 ms by default) between the
    # ten commands requests sent. The times are the simulator's, taken in
    # a script ipmi_sim forks, which a loaded machine starts late by a
    # varying 100 ms or more: one gap alone says little, but the span of
    # the ten holds nine gaps and the lateness of two commands only.
    sent = sorted(c["ms"] for c in cmds["commands"])
    span = sent[-1] - sent[0]
    assert span >= 9 * 200 - 300, (span, sent)
    assert metric('osh_power_requests_total{result="ok"}') >= 11


def test_duplicate_request_not_run_twice(rds, ps):
    sid, name = ps["ids"][1], ps["names"][1]
    sim("commands", str(PS_FLEET), name, "--clear")
    rid = f"{new_job()}.1.1"
    dups = metric("osh_power_requests_duplicates_total")
    xadd(rds, REQUESTS, request(rid, sid, "cycle"))
    first = wait_results(rds, [rid])[rid][0]
    assert first["result"] == "ok" and first["duplicate"] == "0"
    for _ in range(2):
        xadd(rds, REQUESTS, request(rid, sid, "cycle"))
    got = wait_results(rds, [rid], count=3)[rid]
    assert [g["duplicate"] for g in got] == ["0", "1", "1"]
    assert all(g["result"] == "ok" for g in got)
    assert len({g["executed_at"] for g in got}) == 1
    time.sleep(1.5)
    cmds = commands(name)
    assert cmds[name]["counts"] == {"power 0": 1, "power 1": 1}, cmds
    assert metric("osh_power_requests_duplicates_total") >= dups + 2


def test_slow_bmc_runs_each_command_once(rds, ps):
    """A BMC that takes 1.5 s to carry out a chassis command (longer than
    a poll's session waits before it resends): the command is sent once,
    answered ok, and run once. FreeIPMI resends with a new sequence
    number, so a BMC cannot tell a resent cycle from a second one."""
    sid, name = ps["ids"][2], ps["names"][2]
    sim("slow", str(PS_FLEET), name, "1500")
    try:
        sim("commands", str(PS_FLEET), name, "--clear")
        job = new_job()
        rids = [f"{job}.1.1", f"{job}.2.1"]
        xadd(rds, REQUESTS, request(rids[0], sid, "off"))
        got = wait_results(rds, rids[:1], timeout=20)
        xadd(rds, REQUESTS, request(rids[1], sid, "cycle"))
        got.update(wait_results(rds, rids[1:], timeout=20))
        assert [got[r][0]["result"] for r in rids] == ["ok", "ok"], got
        # The cycle's own power-on, a second later, is slow too.
        time.sleep(3.5)
        counts = commands(name)[name]["counts"]
        assert counts == {"power 0": 2, "power 1": 1}, counts
    finally:
        sim("slow", str(PS_FLEET), name, "0")


def test_cycle_unanswered_in_time_is_not_run_again(rds, ps):
    """A BMC that takes 3 s to carry out a cycle asked with 1.5 s left:
    the cycle is sent, not answered by the deadline, and answered
    outcome_unknown (the BMC runs it all the same), not a bmc_timeout that
    cluster-mgmt would retry. The task's next attempt is answered from
    that record: the BMC is cycled once. An on asked the same way stays
    a bmc_timeout (running it twice does no harm)."""
    sid, name = ps["ids"][3], ps["names"][3]
    sim("slow", str(PS_FLEET), name, "3000")
    try:
        sim("commands", str(PS_FLEET), name, "--clear")
        job = new_job()
        first = f"{job}.1.1"
        xadd(rds, REQUESTS, request(first, sid, "cycle",
                                    deadline_ms=now_ms() + 1500))
        res = wait_results(rds, [first], timeout=20)[first][0]
        assert res["result"] == "error", res
        assert res["error"] == "outcome_unknown", res
        assert "may or may not" in res["message"], res
        time.sleep(2.5)  # the BMC carries it out
        again = f"{job}.1.2"
        xadd(rds, REQUESTS, request(again, sid, "cycle",
                                    deadline_ms=now_ms() + 20000))
        res = wait_results(rds, [again], timeout=20)[again][0]
        assert res["error"] == "outcome_unknown", res
        assert res["duplicate"] == "1", res
        on = f"{job}.2.1"
        xadd(rds, REQUESTS, request(on, sid, "on",
                                    deadline_ms=now_ms() + 1500))
        res = wait_results(rds, [on], timeout=20)[on][0]
        assert res["error"] == "bmc_timeout", res
        time.sleep(4)  # the cycle's own power-on and the on, slow too
        counts = commands(name)[name]["counts"]
        assert counts.get("power 0") == 1, counts
    finally:
        sim("slow", str(PS_FLEET), name, "0")


def test_killed_worker_runs_each_request_once(rds, ps):
    """SIGKILL server-mgmt with cycles on their way, start it again: every
    request is answered, no BMC is cycled twice, and every one answered
    ok was cycled exactly once. Those the kill caught between their
    record and the BMC's answer are answered outcome_unknown (see
    power_worker.c): never a second cycle."""
    ids, names = ps["ids"], ps["names"]
    for n in names:
        sim("commands", str(PS_FLEET), n, "--clear")
    job = new_job()
    rids = [f"{job}.{i + 1}.1" for i in range(len(ids))]
    pid = pid_of("server-mgmt")
    os.kill(pid, signal.SIGSTOP)
    try:
        for rid, sid in zip(rids, ids):
            xadd(rds, REQUESTS, request(rid, sid, "cycle",
                                        deadline_ms=now_ms() + 60000))
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(0.08)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10,
             interval=0.02, what="server-mgmt to die")
    before = results(rds, rids)
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "start",
                    "server-mgmt"], check=True, capture_output=True,
                   timeout=120, env=dict(os.environ))
    got = wait_results(rds, rids, timeout=60)
    time.sleep(1.5)
    cmds = commands()
    outcomes = {}
    for rid, name in zip(rids, names):
        fresh = [g for g in got[rid] if g["duplicate"] == "0"]
        assert len(fresh) <= 1, got[rid]
        res = got[rid][0]
        offs = power_offs(cmds, name)
        assert offs <= 1, (name, cmds[name])
        if res["result"] == "ok":
            key = "ok"
            assert offs == 1, (name, res, cmds[name])
        else:
            # Recorded, and not answered when the worker died: it may or
            # may not have reached the BMC, so it is not sent again, and
            # the answer says so.
            assert res["error"] == "outcome_unknown", res
            key = f"outcome_unknown (BMC cycled {offs}x)"
        outcomes[key] = outcomes.get(key, 0) + 1
    print("answered before the kill:", len(before), "outcomes:", outcomes)
    # Nothing left pending in the group.
    summary = rds.call("XPENDING", REQUESTS, GROUP)
    assert summary[0] == 0, summary


def test_silent_bmc_times_out_by_its_deadline(rds, ps):
    job = new_job()
    t0 = now_ms()
    deadline = t0 + 2500
    silent = [f"{job}.1.1", f"{job}.2.1"]
    xadd(rds, REQUESTS, request(silent[0], ps["silent"], "on",
                                deadline_ms=deadline))
    xadd(rds, REQUESTS, request(silent[1], ps["silent"], "cycle",
                                deadline_ms=deadline))
    others = []
    for i, sid in enumerate(ps["ids"][2:6]):
        rid = f"{job}.{i + 10}.1"
        others.append(rid)
        xadd(rds, REQUESTS, request(rid, sid, "status",
                                    deadline_ms=deadline))
    got = wait_results(rds, silent + others, timeout=20)
    for rid in others:
        assert got[rid][0]["result"] == "ok", got[rid]
        assert int(got[rid][0]["executed_at"]) < deadline
    for rid in silent:
        res = got[rid][0]
        assert res["result"] == "error" and res["error"] == "bmc_timeout", \
            res
        # By its deadline (give or take the record's own write).
        assert int(res["executed_at"]) <= deadline + 1000, res
    # A deadline already past: nothing is sent at all.
    name = ps["names"][6]
    sim("commands", str(PS_FLEET), name, "--clear")
    rid = f"{job}.99.1"
    xadd(rds, REQUESTS, request(rid, ps["ids"][6], "off",
                                deadline_ms=now_ms() - 1000))
    res = wait_results(rds, [rid])[rid][0]
    assert res["error"] == "bmc_timeout"
    assert commands(name)[name]["count"] == 0


def test_refusals_answer_at_once(rds, ps):
    job = new_job()
    far = now_ms() + 60000
    cases = {
        f"{job}.1.1": (ps["wrong"], "on", "auth_failed"),
        f"{job}.2.1": (ps["wrong"], "cycle", "auth_failed"),
        f"{job}.3.1": (ps["nocreds"], "on", "no_credentials"),
        f"{job}.4.1": (10 ** 12, "off", "not_found"),
    }
    t0 = now_ms()
    for rid, (sid, action, _) in cases.items():
        xadd(rds, REQUESTS, request(rid, sid, action, deadline_ms=far))
    got = wait_results(rds, list(cases), timeout=20)
    for rid, (_, _, code) in cases.items():
        res = got[rid][0]
        assert res["result"] == "error" and res["error"] == code, res
        assert "not-the-password" not in res["message"]
        # Not held until the deadline, nor retried.
        assert int(res["executed_at"]) - t0 < 20000, res
        assert len(got[rid]) == 1


def test_poison_entry_goes_to_the_dead_stream(rds, ps):
    """An entry delivered more than OSH_POWER_MAX_DELIVERIES times (5) is
    not run: worker_lost, and copied to osh:power-requests:dead."""
    sid, name = ps["ids"][7], ps["names"][7]
    sim("commands", str(PS_FLEET), name, "--clear")
    rid = f"{new_job()}.1.1"
    dead = metric("osh_power_requests_dead_lettered_total")
    # Taken by a consumer that never answers before server-mgmt can see
    # it (one transaction), then made to look delivered 50 times.
    assert rds.call("MULTI") == "OK"
    f = request(rid, sid, "cycle")
    args = ["XADD", REQUESTS, "*"]
    for k, v in f.items():
        args += [k, v]
    rds.call(*args)
    rds.call("XREADGROUP", "GROUP", GROUP, "ghost", "COUNT", "1",
             "STREAMS", REQUESTS, ">")
    eid, read = rds.call("EXEC")
    assert read[0][1][0][0] == eid
    rds.call("XCLAIM", REQUESTS, GROUP, "ghost", "0", eid, "IDLE", "60000",
             "RETRYCOUNT", "50")
    res = wait_results(rds, [rid], timeout=20)[rid][0]
    assert res["result"] == "error" and res["error"] == "worker_lost", res
    letters = [fields(f) for _, f in rds.call("XRANGE", DEAD, "-", "+")]
    mine = [d for d in letters if d.get("request_id") == rid]
    assert len(mine) == 1 and mine[0]["dead_stream_id"] == eid, mine
    assert int(mine[0]["dead_deliveries"]) > 5
    assert mine[0]["action"] == "cycle"
    pending = rds.call("XPENDING", REQUESTS, GROUP, "-", "+", "100")
    assert eid not in [p[0] for p in pending]
    assert commands(name)[name]["count"] == 0
    assert metric("osh_power_requests_dead_lettered_total") >= dead + 1

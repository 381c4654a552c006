"""Faults under a steady load through nginx (issue 8): PostgreSQL and Redis
stopped for a while and started again, each service killed with SIGKILL
and started again, while a bounded client sends mixed reads and writes at
a fixed rate and records every answer. Every answer is well formed (2xx, or
503/504 JSON with Retry-After on 503), no service needs a restart once a
dependency is back, /ready tells the truth throughout, full success
resumes within 5 s of recovery, every write acknowledged is in the
database afterwards and so is its audit entry (those emitted while Redis
was down among them, counted). Then 1,000 slow clients and 10,000 idle
keep-alive connections, against nginx and against the exporter, do not
stop other clients being served.

The file runs in about a minute and a half: the outages are short
(PostgreSQL and Redis 10 s each, services down for as long as a restart
takes). A summary of what happened goes to logs/faults-summary.txt."""
import base64
import http.client
import json
import os
import resource
import secrets
import selectors
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import OFF, PORTS, REDIS_PORT, RUN, TOP, login, psql, wait_for

GW_PORT = 8080 + OFF
RATE = 40  # requests per second, all threads together
THREADS = 12
OUTAGE_S = 10.0  # PostgreSQL and Redis stay down this long
RECOVERY_S = 5.0  # full success again at most this long after recovery
AFTER_S = 7.5  # watched after recovery (more than RECOVERY_S)
READY_GRACE_S = 1.0  # for a /ready probe already on its way
PROMPT_S = 2.0  # "promptly" for a request while connections are held
SERVICES = ("auth", "server-mgmt", "ipmi-exporter")
# What each service's /ready depends on.
DEPENDS = {"auth": {"postgres", "redis"},
           "server-mgmt": {"postgres", "redis"},
           "ipmi-exporter": {"redis"}}
WRITES = {"create_server", "patch_server", "create_user", "login"}
# One round of the load's mix: reads and writes of both services, password
# hashing (user creation, login) kept to a few a second, since it is
# what costs CPU on a small machine.
MIX = ("list", "get", "create_server", "profile", "get", "list",
       "patch_server", "create_user", "get", "list", "create_server",
       "login", "get", "patch_server", "list", "profile", "create_server",
       "get", "list", "get") + \
      ("list", "get", "create_server", "profile", "get", "list",
       "patch_server", "create_user", "get", "list", "create_server",
       "profile", "get", "patch_server", "list", "profile", "create_server",
       "get", "list", "get")

class SourceConnection(http.client.HTTPConnection):
    """Connects from a given loopback address."""

    def __init__(self, port, source):
        super().__init__("127.0.0.1", port, timeout=10,
                         source_address=(source, 0))


def now():
    return time.monotonic()


def new_rid():
    return "outage-" + secrets.token_hex(8)


class Record:
    __slots__ = ("op", "method", "path", "rid", "t0", "t1", "status",
                 "headers", "body", "error", "note")

    def __init__(self, op, method, path, rid):
        self.op, self.method, self.path, self.rid = op, method, path, rid
        self.t0 = self.t1 = None
        self.status = self.headers = self.body = self.error = None
        self.note = None

    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def json(self):
        try:
            return json.loads(self.body)
        except (TypeError, ValueError):
            return None

    def malformed(self):
        """Why this answer is not a well-formed one (None if it is)."""
        if self.status is None:
            return f"no answer: {self.error}"
        ctype = self.headers.get("content-type", "").split(";")[0]
        if 200 <= self.status < 300:
            if self.status != 204 and (ctype != "application/json" or
                                       self.json() is None):
                return f"{self.status} without a JSON body"
            return None
        if self.status not in (503, 504):
            return f"answered {self.status}: {self.body[:200]!r}"
        doc = self.json()
        if ctype != "application/json" or not isinstance(doc, dict) or \
                not isinstance(doc.get("error"), dict) or \
                "code" not in doc["error"]:
            return f"{self.status} without a JSON error: {self.body[:200]!r}"
        if self.status == 503 and "retry-after" not in self.headers:
            return f"503 without Retry-After: {self.body[:200]!r}"
        return None

    def __repr__(self):
        return (f"<{self.op} {self.method} {self.path} rid={self.rid} "
                f"t0={self.t0:.2f} {self.status} {self.error or ''} "
                f"{(self.body or b'')[:120]!r}>")


def call(conn, method, path, body=None, token=None, rid=None, op=None,
         timeout=30):
    """One request on an http.client connection (reopened by the caller
    when this returns a record with an error)."""
    rec = Record(op or path, method, path, rid or new_rid())
    headers = {"X-Request-Id": rec.rid, "Host": "localhost"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    rec.t0 = now()
    try:
        conn.timeout = timeout
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        rec.body = r.read()
        rec.status = r.status
        rec.headers = {k.lower(): v for k, v in r.getheaders()}
        if r.will_close:
            conn.close()
    except (OSError, http.client.HTTPException) as e:
        rec.error = repr(e)
        conn.close()
    rec.t1 = now()
    return rec


class Load:
    """A bounded client at a fixed rate: THREADS threads, each with a
    keep-alive connection to nginx, taking turns so that together they
    send RATE requests a second (a thread whose request is slow falls
    behind; it never catches up in a burst). Every answer is kept."""

    def __init__(self, token, user, password, server_ids):
        self.token, self.user, self.password = token, user, password
        self.server_ids = list(server_ids)
        self.to_patch = []  # created by the load, not yet patched
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.count = 0
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True)
                        for i in range(THREADS)]

    def start(self):
        self.t_start = now()
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)

    def _next_op(self):
        with self.lock:
            op = MIX[self.count % len(MIX)]
            self.count += 1
            sid = self.server_ids[self.count % len(self.server_ids)]
            patch = self.to_patch.pop(0) if op == "patch_server" and \
                self.to_patch else None
        if op == "patch_server" and patch is None:
            op = "get"
        return op, sid, patch

    def _request(self, conn, op, sid, patch):
        tag = secrets.token_hex(6)
        if op == "list":
            return call(conn, "GET", "/api/servers?limit=20",
                        token=self.token, op=op)
        if op == "get":
            return call(conn, "GET", f"/api/servers/{sid}",
                        token=self.token, op=op)
        if op == "profile":
            return call(conn, "GET", "/api/auth/profile", token=self.token,
                        op=op)
        if op == "create_server":
            rec = call(conn, "POST", "/api/servers",
                       {"name": f"outage-{tag}", "bmc_address":
                        f"10.{int(tag[0:2], 16)}.{int(tag[2:4], 16)}."
                        f"{int(tag[4:6], 16)}:{int(tag[6:10], 16) % 65535 + 1}",
                        "monitoring": False, "labels": {"outage": tag}},
                       token=self.token, op=op)
            rec.note = f"outage-{tag}"
            if rec.ok() and rec.json():
                with self.lock:
                    self.to_patch.append(rec.json()["id"])
            return rec
        if op == "patch_server":
            rec = call(conn, "PATCH", f"/api/servers/{patch}",
                       {"description": f"outage-{tag}"}, token=self.token,
                       op=op)
            rec.note = (patch, f"outage-{tag}")
            return rec
        if op == "create_user":
            rec = call(conn, "POST", "/api/users",
                       {"username": f"outage-{tag}", "password":
                        "pw-" + secrets.token_urlsafe(12),
                        "role": "viewer"}, token=self.token, op=op)
            rec.note = f"outage-{tag}"
            return rec
        assert op == "login"
        return call(conn, "POST", "/api/auth/login",
                    {"username": self.user, "password": self.password},
                    op=op)

    def _run(self, i):
        period = THREADS / RATE
        # Each thread is a client of its own address, as users are: one
        # address may have only so many password checks running (429).
        conn = SourceConnection(GW_PORT, f"127.44.0.{i + 1}")
        due = now() + i / RATE
        while not self.stopping.is_set():
            wait = due - now()
            if wait > 0:
                self.stopping.wait(wait)
                if self.stopping.is_set():
                    break
            due = max(due + period, now())
            rec = self._request(conn, *self._next_op())
            with self.lock:
                self.records.append(rec)
        conn.close()

    def between(self, t_from, t_to):
        with self.lock:
            return [r for r in self.records if t_from <= r.t0 < t_to]


class ReadyProbe:
    """Asks every service's /ready (on its own port, as an orchestrator
    would) four times a second and keeps the answers."""

    def __init__(self):
        self.answers = {s: [] for s in SERVICES}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(s,),
                                         daemon=True) for s in SERVICES]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=10)

    def _run(self, svc):
        conn = http.client.HTTPConnection("127.0.0.1", PORTS[svc])
        while not self.stopping.is_set():
            rec = call(conn, "GET", "/ready", op=svc, timeout=3)
            self.answers[svc].append(rec)
            self.stopping.wait(0.25)
        conn.close()

    def between(self, svc, t_from, t_to):
        return [r for r in list(self.answers[svc]) if t_from <= r.t0 < t_to]


def metric(port, name):
    """A metric's value from a service's /metrics (None if absent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    rec = call(conn, "GET", "/metrics", timeout=3)
    conn.close()
    if rec.status != 200:
        return None
    for line in rec.body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def pid_of(svc):
    return int((RUN / "pids" / f"{svc}.pid").read_text())


def pg_ctl(action):
    data = os.path.realpath(RUN / "pg") + "/data"
    pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    ctl = f"/usr/lib/postgresql/{pgbin}/bin/pg_ctl"
    if action == "start":
        cmd = [ctl, "-D", data, "-w", "-l",
               os.path.realpath(RUN / "pg") + "/postgres.log",
               "-o", f"-p {15432 + OFF}", "start"]
    else:
        cmd = [ctl, "-D", data, "-w", "-m", "fast", "stop"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def redis_stop():
    pid = int((RUN / "redis" / "redis.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=20,
             interval=0.02, what="Redis to exit")


def redis_start():
    subprocess.run(["redis-server", str(RUN / "redis" / "redis.conf")],
                   check=True, capture_output=True, timeout=30)
    pw = (RUN / "secrets" / "redis-password").read_text().strip()

    def pong():
        try:
            with socket.create_connection(("127.0.0.1", REDIS_PORT), 1) as s:
                s.sendall(f"AUTH {pw}\r\nPING\r\n".encode())
                got = b""
                while b"PONG" not in got:
                    chunk = s.recv(100)
                    if not chunk:
                        return False
                    got += chunk
                return True
        except OSError:
            return False
    wait_for(pong, timeout=20, interval=0.02, what="Redis to answer")


def service_kill(svc):
    pid = pid_of(svc)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10,
             interval=0.02, what=f"{svc} to die")


def service_start(svc):
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "start",
                    svc], check=True, capture_output=True, timeout=120,
                   env=dict(os.environ))


def restore():
    """Whatever a failed phase left stopped is started again (the tests
    after this one want the whole stack)."""
    data = os.path.realpath(RUN / "pg") + "/data"
    running = [os.path.exists(data + "/postmaster.pid"),
               os.path.exists(RUN / "redis" / "redis.pid")]
    for svc in SERVICES:
        try:
            running.append(os.path.exists(f"/proc/{pid_of(svc)}"))
        except (OSError, ValueError):
            running.append(False)
    if not all(running):
        subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "up"],
                       capture_output=True, timeout=300,
                       env=dict(os.environ))


class Phase:
    def __init__(self, name, what):
        self.name, self.what = name, what  # what: postgres, redis, a service

    def run(self, down, up, outage):
        self.t_begin = now()
        down()
        self.t_down = now()
        time.sleep(max(0.0, self.t_down + outage - now()))
        self.t_up = now()
        up()
        self.t_back = now()  # the dependency answers again
        time.sleep(AFTER_S)
        self.t_end = now()


@pytest.fixture(scope="module")
def setup(admin):
    """The load's own user, a few servers to read, and the limits this
    process needs for its connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    pw = "pw-" + secrets.token_urlsafe(12)
    name = "outage-load-" + secrets.token_hex(3)
    r = admin.post("/api/users", {"username": name, "password": pw,
                                  "role": "admin"})
    assert r.status_code == 201, r.text
    token = login(name, pw)["access_token"]
    ids = []
    for i in range(5):
        r = admin.post("/api/servers", {"name": f"outage-seed-{name}-{i}",
                                        "bmc_address": f"10.{OFF % 250}."
                                        f"{secrets.randbelow(250)}.{i + 1}:"
                                        f"{secrets.randbelow(60000) + 1024}",
                                        "monitoring": False})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    yield {"token": token, "user": name, "password": pw, "ids": ids}
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def audit_burst(token, n=12):
    """n user creations at once, each of which hashes a password on
    auth's workers for a while before it writes and emits its audit
    entry: started just before Redis stops, most emit while it is down."""
    out = [None] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        conn = http.client.HTTPConnection("127.0.0.1", GW_PORT, timeout=30)
        conn.connect()
        gate.wait()
        rec = call(conn, "POST", "/api/users",
                   {"username": f"outage-burst-{secrets.token_hex(5)}",
                    "password": "pw-" + secrets.token_urlsafe(12),
                    "role": "viewer"}, token=token, op="create_user")
        rec.note = json.loads(rec.body)["username"] if rec.ok() else None
        out[i] = rec
        conn.close()
    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    gate.wait()
    return threads, out


def test_outages_under_load(setup, admin):
    pids = {s: pid_of(s) for s in SERVICES}
    probe = ReadyProbe()
    load = Load(setup["token"], setup["user"], setup["password"],
                setup["ids"])
    probe.start()
    load.start()
    phases = []
    backlog = []  # auth's audit backlog while Redis is down
    burst = None
    try:
        time.sleep(2.0)
        p = Phase("postgres stopped", "postgres")
        p.run(lambda: pg_ctl("stop"), lambda: pg_ctl("start"), OUTAGE_S)
        phases.append(p)

        def redis_down():
            nonlocal burst
            burst = audit_burst(setup["token"])
            time.sleep(0.03)  # past the router, hashing
            redis_stop()

        def redis_up():
            redis_start()

        def watch_backlog():
            while not stop_watch.is_set():
                v = metric(PORTS["auth"], "osh_audit_backlog")
                if v is not None:
                    backlog.append(v)
                stop_watch.wait(0.2)
        stop_watch = threading.Event()
        watcher = threading.Thread(target=watch_backlog, daemon=True)
        p = Phase("redis stopped", "redis")
        watcher.start()
        p.run(redis_down, redis_up, OUTAGE_S)
        stop_watch.set()
        watcher.join()
        phases.append(p)
        # No service needed a restart to serve again.
        kept = {s: pid_of(s) for s in SERVICES}
        for svc in SERVICES:
            p = Phase(f"{svc} killed", svc)
            p.run(lambda s=svc: service_kill(s),
                  lambda s=svc: service_start(s), 1.0)
            phases.append(p)
    finally:
        load.stop()
        probe.stop()
        restore()
    for t in burst[0]:
        t.join(timeout=30)
    burst_recs = burst[1]

    lines = []
    problems = []
    # Every answer well formed.
    bad = [(r, r.malformed()) for r in load.records if r.malformed()]
    no_retry = [r for r, why in bad if why.startswith("503 without Retry")]
    if no_retry:
        problems.append(
            f"{len(no_retry)} answers 503 without Retry-After, from "
            f"{sorted({r.path.split('?')[0] for r in no_retry})}, e.g. "
            f"{no_retry[0]!r}")
    bad = [(r, why) for r, why in bad if r not in no_retry]
    for r, why in bad[:20]:
        problems.append(f"malformed answer: {why} {r!r}")
    for r in burst_recs:
        if r is not None and r.malformed():
            problems.append(f"malformed answer: {r.malformed()} {r!r}")
    lines.append(f"load: {len(load.records)} requests, "
                 f"{sum(r.ok() for r in load.records)} 2xx, "
                 f"{len(bad)} malformed, over "
                 f"{load.records[-1].t0 - load.t_start:.1f} s")

    # Per phase: recovery time, /ready truthfulness.
    for p in phases:
        # Those still running when the next phase began belong to it.
        recs = [r for r in load.between(p.t_begin, p.t_end)
                if r.t1 <= p.t_end]
        fails = [r for r in recs if not r.ok()]
        after = [r for r in recs if r.t0 >= p.t_back]
        last_fail = max((r.t0 for r in after if not r.ok()), default=None)
        recovered = 0.0 if last_fail is None else last_fail - p.t_back
        lines.append(
            f"{p.name}: down after {p.t_down - p.t_begin:.2f} s, "
            f"{p.t_up - p.t_down:.1f} s down, back after "
            f"{p.t_back - p.t_up:.2f} s; {len(recs)} requests, "
            f"{len(fails)} not 2xx "
            f"({', '.join(sorted({str(r.status) for r in fails}))}); "
            f"full success {recovered:.2f} s after recovery" +
            ("" if last_fail is None else
             f" (last failure: {[r for r in after if not r.ok()][-1]!r})"))
        if recovered > RECOVERY_S:
            problems.append(
                f"{p.name}: requests still failing {recovered:.2f} s after "
                f"recovery: "
                f"{[r for r in after if not r.ok()][-3:]!r}")
        if not any(r.ok() for r in after if r.t0 >= p.t_back + RECOVERY_S):
            problems.append(f"{p.name}: no success after recovery")
        for svc in SERVICES:
            if svc == p.what:
                # Killed: nothing answers, which is the truth; once
                # started again, ready.
                later = probe.between(svc, p.t_back, p.t_end)
                lies = [r for r in later if r.status != 200]
                if lies or not later:
                    problems.append(f"{p.name}: {svc} /ready not 200 once "
                                    f"started again: {lies[:3]!r}")
                continue
            if p.what not in DEPENDS[svc]:
                during = probe.between(svc, p.t_begin, p.t_end)
                later = []
                lies = [r for r in during if r.status != 200]
                if lies or not during:
                    problems.append(
                        f"{p.name}: {svc} /ready not 200 throughout: "
                        f"{lies[:3]!r}")
            else:
                during = probe.between(svc, p.t_down + READY_GRACE_S,
                                       p.t_up)
                later = probe.between(svc, p.t_back + RECOVERY_S, p.t_end)
                lies = [r for r in during if r.status != 503]
                if lies or not during:
                    problems.append(
                        f"{p.name}: {svc} /ready not 503 while {p.what} "
                        f"was down: {lies[:3]!r}")
                lies = [r for r in later if r.status != 200]
                if lies or not later:
                    problems.append(
                        f"{p.name}: {svc} /ready not 200 after recovery: "
                        f"{lies[:3]!r}")
            slow = [r for r in during + later if r.t1 - r.t0 > 1.0]
            if slow:
                lines.append(f"  {svc} /ready slow: "
                             f"{max(r.t1 - r.t0 for r in slow):.2f} s")
    # Dependencies came back without any service restarting.
    for s in SERVICES:
        if kept[s] != pids[s]:
            problems.append(f"{s} restarted while its dependencies were "
                            f"away")

    # Audit entries emitted while Redis was down: spooled, then sent.
    spooled = max(backlog, default=0)
    burst_ok = [r for r in burst_recs if r is not None and r.ok()]
    lines.append(f"audit: up to {spooled:.0f} entries spooled by auth "
                 f"while Redis was down; burst {len(burst_ok)} of "
                 f"{len(burst_recs)} users created")
    if spooled < 1:
        problems.append("no audit entry was emitted while Redis was down: "
                        "the test proved nothing about the spool")

    # Nothing lost: acknowledged writes are in the database, with their
    # audit entries.
    recs = load.records + burst_ok
    acked = [r for r in recs if r.ok() and r.op in WRITES]
    names = set(psql("SELECT name FROM server_mgmt.servers "
                     "WHERE name LIKE 'outage-%'").split())
    lost = [r for r in acked if r.op == "create_server"
            and r.note not in names]
    descs = dict(line.split("|") for line in psql(
        "SELECT id, description FROM server_mgmt.servers "
        "WHERE description LIKE 'outage-%'").split())
    lost += [r for r in acked if r.op == "patch_server"
             and descs.get(str(r.note[0])) != r.note[1]]
    users = set(psql("SELECT username FROM auth.users "
                     "WHERE username LIKE 'outage-%'").split())
    lost += [r for r in acked if r.op == "create_user"
             and r.note not in users]
    for r in lost[:10]:
        problems.append(f"acknowledged write not in the database: {r!r}")
    want_rids = {r.rid for r in acked}

    def audited():
        got = set(psql("SELECT request_id FROM auth.audit_log "
                       "WHERE request_id LIKE 'outage-%'").split())
        return want_rids - got
    try:
        wait_for(lambda: not audited(), timeout=20, interval=0.5,
                 what="audit entries")
    except AssertionError:
        pass
    missing = audited()
    burst_audited = len([r for r in burst_ok if r.rid not in missing])
    lines.append(f"writes acknowledged: {len(acked)}, lost {len(lost)}, "
                 f"audit entries missing {len(missing)}; burst entries "
                 f"arrived {burst_audited} of {len(burst_ok)}")
    for r in [r for r in acked if r.rid in missing][:10]:
        problems.append(f"audit entry missing for {r!r}")
    dup = psql("SELECT count(*) FROM (SELECT request_id FROM auth.audit_log "
               "WHERE request_id LIKE 'outage-%' GROUP BY request_id, action "
               "HAVING count(*) > 1) d")
    lines.append(f"audit entries duplicated: {dup}")

    (RUN / "logs" / "faults-summary.txt").write_text(
        "\n".join(lines + problems) + "\n")
    print("\n".join(lines))
    assert not problems, "\n".join(lines + problems)


# Slow and idle clients. Each crowd comes from addresses of its own on
# loopback (127.x.y.z), a few dozen connections from each, under the
# exporter's per-address cap: many clients, not one.
IDLE, IDLE_PER_ADDR = 10000, 50
SLOW, SLOW_PER_ADDR = 1000, 10
HOLD_S = 6.0
# Normal requests begin once the slow clients have held their connections
# for a while: a server cannot tell a slow client from a new one in its
# first second (http.c closes the slowest heads for room only after
# that), and connections refused meanwhile linger up to 2 s.
SETTLE_S = 2.5
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: the port is picked at connect


def addresses(prefix, count):
    return [f"{prefix}.{i // 250}.{i % 250 + 1}" for i in range(count)]


def answered(buf):
    """True once buf holds a whole HTTP answer (with Content-Length)."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return len(body) >= int(v)
    return True


class Crowd:
    """Many connections to one port, held open by this process."""

    def __init__(self, port):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.idle, self.slow = [], []
        self.failed = {"idle": 0, "slow": 0}

    def _connect(self, src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src, 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        return s

    def _wave(self, srcs, first, done, timeout=20):
        """Connects from each of srcs, sends first, and calls done(sock,
        buf) with what came back until it returns True (keep) or False
        (drop); returns the connections kept."""
        pend, kept = {}, []
        for src in srcs:
            s = self._connect(src)
            pend[s] = b""
            self.sel.register(s, selectors.EVENT_WRITE)
        deadline = now() + timeout
        while pend and now() < deadline:
            for key, ev in self.sel.select(timeout=0.5):
                s = key.fileobj
                try:
                    if ev & selectors.EVENT_WRITE:
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError("connect failed")
                        s.send(first)
                        if done(s, None):
                            self.sel.unregister(s)
                            kept.append(s)
                            del pend[s]
                            continue
                        self.sel.modify(s, selectors.EVENT_READ)
                        continue
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    pend[s] += data
                    if done(s, pend[s]):
                        self.sel.unregister(s)
                        kept.append(s)
                        del pend[s]
                except OSError:
                    self.sel.unregister(s)
                    s.close()
                    del pend[s]
        for s in pend:
            self.sel.unregister(s)
            s.close()
        return kept, len(srcs) - len(kept)

    def open_idle(self, n, per_addr, prefix, request, batch=500):
        srcs = addresses(prefix, -(-n // per_addr))
        want = [srcs[i // per_addr] for i in range(n)]
        self.statuses = {}

        def done(s, buf):
            if buf is None or not answered(buf):
                return False
            code = buf.split(b" ", 2)[1].decode()
            self.statuses[code] = self.statuses.get(code, 0) + 1
            return True
        for i in range(0, n, batch):
            kept, failed = self._wave(want[i:i + batch], request, done)
            self.idle += kept
            self.failed["idle"] += failed

    def open_slow(self, n, per_addr, prefix):
        srcs = addresses(prefix, -(-n // per_addr))
        self.slow_sent = 1
        kept, failed = self._wave([srcs[i // per_addr] for i in range(n)],
                                  SLOW_HEAD[:1], lambda s, buf: True)
        self.slow += kept
        self.failed["slow"] += failed

    def dribble(self):
        """One more byte of the head on every slow connection; those the
        server closed are counted and forgotten."""
        byte = SLOW_HEAD[self.slow_sent:self.slow_sent + 1]
        self.slow_sent += 1
        alive = []
        for s in self.slow:
            try:
                s.send(byte)
                alive.append(s)
            except OSError:
                s.close()
        self.slow = alive

    def still_open(self, socks):
        """How many of socks the server has not closed."""
        n = 0
        for s in socks:
            try:
                n += s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    def close(self):
        for s in self.idle + self.slow:
            s.close()
        self.idle, self.slow = [], []
        self.sel.close()


SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + \
    b"s" * 200 + b"\r\n\r\n"


def prompt_requests(make_conn, method, path, headers, seconds):
    """A request on a new connection every 0.25 s for seconds: (status or
    error, duration) of each."""
    out = []
    end = now() + seconds
    while now() < end:
        t0 = now()
        try:
            conn = make_conn()
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            r.read()
            out.append((r.status, now() - t0))
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            out.append((repr(e), now() - t0))
        time.sleep(0.25)
    return out




def crowd_test(port, idle_request, normal):
    """Holds IDLE idle keep-alive connections and SLOW slow ones against
    port while normal() runs; returns what normal() got and a summary."""
    crowd = Crowd(port)
    try:
        t0 = now()
        crowd.open_idle(IDLE, IDLE_PER_ADDR, "127.41", idle_request)
        t_idle = now() - t0
        crowd.open_slow(SLOW, SLOW_PER_ADDR, "127.42")
        got = []
        t_held = now()
        worker = threading.Thread(target=lambda: (
            time.sleep(SETTLE_S), got.extend(normal(HOLD_S - SETTLE_S))),
            daemon=True)
        worker.start()
        while now() < t_held + HOLD_S:
            time.sleep(1.0)
            crowd.dribble()
        worker.join(timeout=60)
        summary = (f"{len(crowd.idle)} idle connections opened in "
                   f"{t_idle:.1f} s (answers {crowd.statuses}, "
                   f"{crowd.failed['idle']} failed), "
                   f"{crowd.still_open(crowd.idle)} still open after "
                   f"{HOLD_S:.0f} s; {len(crowd.slow)} of {SLOW} slow "
                   f"ones still sending")
        return got, summary
    finally:
        crowd.close()


def check_prompt(what, got, summary):
    slow = [g for g in got if g[0] != 200 or g[1] > PROMPT_S]
    line = (f"{what}: {summary}; normal requests: {len(got)}, "
            f"slowest {max(g[1] for g in got):.3f} s")
    with open(RUN / "logs" / "faults-summary.txt", "a") as f:
        f.write(line + "\n")
    print(line)
    assert got and not slow, f"{line}; not served promptly: {slow[:5]}"


def test_slow_and_idle_clients_at_nginx(setup):
    token = setup["token"]

    def normal(seconds):
        half = seconds / 2
        return prompt_requests(
            lambda: SourceConnection(GW_PORT, "127.0.0.1"), "GET",
            "/api/servers?limit=5", {"Authorization": f"Bearer {token}"},
            half) + prompt_requests(
            lambda: SourceConnection(GW_PORT, "127.43.0.1"), "GET",
            "/health", {}, half)
    got, summary = crowd_test(
        GW_PORT, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", normal)
    check_prompt("nginx", got, summary)


def test_slow_and_idle_clients_at_the_exporter():
    port = PORTS["ipmi-exporter"]
    pw = (RUN / "secrets" / "exporter-password").read_text().strip()
    auth = "Basic " + base64.b64encode(f"prometheus:{pw}".encode()).decode()

    def normal(seconds):
        # Prometheus (from 127.0.0.1), and another client.
        half = seconds / 2
        return prompt_requests(
            lambda: SourceConnection(port, "127.0.0.1"), "GET", "/metrics",
            {"Authorization": auth}, half) + prompt_requests(
            lambda: SourceConnection(port, "127.43.0.2"), "GET",
            "/metrics", {"Authorization": auth}, half)
    got, summary = crowd_test(
        port, b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", normal)
    check_prompt("ipmi-exporter", got, summary)

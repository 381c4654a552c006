"""The status poller under BMC faults: while 500 servers are polled, one
BMC goes silent (its ipmi_sim stopped with SIGSTOP while sessions are
open), one answers with the wrong password, and one resets mid-session
(its ipmi_sim killed and started again): the rest are not slowed.

The 500 healthy BMCs are real ipmi_sim endpoints (osh-sim's board), in
fewer processes: each ipmi_sim serves eleven LAN channels, each at a
loopback address of its own (127.77.<sim>.<channel>; a BMC must answer
from the address it was asked at, so one per channel), so 46 processes
make 506 BMCs.

"Not slowed" is structural, not a timing: with the faults known, no round
waits out a BMC deadline (the stack's OSH_BMC_TIMEOUT_MS is 3 s, its poll
interval 2 s), so rounds keep their interval (no overruns) and every
healthy server is polled again within each interval; the faulty ones are
reported as such, in a lane of their own."""
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from conftest import OFF, OSHSIM, PG_PORT, PORTS, RUN, TOP, psql, wait_for

SIMS, CHANNELS = 46, 11
HEALTHY = 500
PORT = 9160 + OFF
INTERVAL_S, DEADLINE_S = 2.0, 3.0  # tests/integration/run.sh
SM_METRICS = f"http://127.0.0.1:{PORTS['server-mgmt']}/metrics"
ROOT = RUN / "pollsim"
PREFIX = "pf-"


SIM = OSHSIM


class Bmc:
    """One ipmi_sim built by osh-sim, serving a LAN channel per (address,
    port) given."""

    def __init__(self, index, name, lans):
        self.lans = lans
        self.d, self.sensors, self.discretes = SIM.describe(
            str(ROOT), index, PORT, "normal", "admin", "secret")
        self.d["name"] = name
        self.d["dir"] = str(ROOT / name)

    def lan_text(self, d):
        # No chassis_control program: ipmi_sim would fork a shell for
        # every Get Chassis Status, 250 a second at 500 BMCs polled every
        # 2 s, which measures the machine's fork rate, not the poller.
        # The chassis module (in the process) stays when it is built.
        text = "".join(line for line in SIM.LAN_TEXT(d).splitlines(True)
                       if "chassis_control" not in line)
        start = text.index("  startlan 1")
        end = text.index("  endlan\n") + len("  endlan\n")
        block = re.sub(r"    addr .*\n", "", text[start:end])
        lans = ""
        for ch, (addr, port) in enumerate(self.lans, 1):
            lans += block.replace("startlan 1", f"startlan {ch}").replace(
                "    priv_limit", f"    addr {addr} {port}\n    priv_limit")
        return text[:start] + lans + text[end:]

    def start(self, wait=True):
        SIM.lan_text = self.lan_text
        try:
            SIM.start_one(str(ROOT), self.d, self.sensors, self.discretes)
        finally:
            SIM.lan_text = SIM.LAN_TEXT
        self.pid = self.d["pid"]
        if wait:
            self.wait()

    def wait(self):
        SIM.wait_up([dict(self.d, host=addr, port=port)
                     for addr, port in self.lans])

    def signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


SIM.LAN_TEXT = SIM.lan_text


def metrics():
    text = requests.get(SM_METRICS, timeout=10).text
    out = {}
    for line in text.splitlines():
        if line.startswith(("osh_poll", "osh_ipmi_stuck",
                            "osh_ipmi_workers_busy")):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def row(name, addr, port, password="secret"):
    return {"name": name, "bmc_address": f"{addr}:{port}",
            "workarounds": ["opensesspriv"], "monitoring": False,
            "credentials": {"username": "admin", "password": password}}


def ages(like):
    """Seconds since each matching server was last polled (never: 1e9)."""
    out = psql("SELECT coalesce(extract(epoch FROM now() - last_polled), "
               f"1e9) FROM server_mgmt.servers WHERE name LIKE '{like}'")
    return [float(x) for x in out.split()]


def status(name):
    return psql(f"SELECT status || ' ' || coalesce(last_error, '') "
                f"FROM server_mgmt.servers WHERE name = '{name}'")


def rounds_for(n, timeout):
    """The durations of the next n rounds, read off /metrics, and the
    overruns counted meanwhile."""
    m = metrics()
    seen, first_overruns = m["osh_poll_rounds_total"], \
        m["osh_poll_overruns_total"]
    durations = []
    deadline = time.time() + timeout
    while len(durations) < n and time.time() < deadline:
        time.sleep(0.1)
        m = metrics()
        if m["osh_poll_rounds_total"] > seen:
            # Rounds are at least an interval apart: none is missed.
            seen = m["osh_poll_rounds_total"]
            durations.append(m["osh_poll_last_round_duration_seconds"])
            # When it ended, in Unix time: just now.
            ended = m["osh_poll_last_round_end_timestamp_seconds"]
            assert time.time() - 5 < ended <= time.time(), ended
    assert len(durations) == n, f"only {len(durations)} rounds finished"
    return durations, m["osh_poll_overruns_total"] - first_overruns


@pytest.fixture(scope="module")
def bmcs(admin):
    ROOT.mkdir(parents=True, exist_ok=True)
    healthy = [Bmc(i, f"pfsim{i}",
                   [(f"127.77.{i}.{c}", PORT) for c in range(1, CHANNELS + 1)])
               for i in range(SIMS)]
    silent = Bmc(SIMS, "pfsilent", [("127.77.200.1", PORT)])
    resets = Bmc(SIMS + 1, "pfreset", [("127.77.200.2", PORT)])
    every = healthy + [silent, resets]
    endpoints = [lan for b in healthy for lan in b.lans]
    try:
        for b in every:
            b.start(wait=False)
        for b in every:
            b.wait()
        rows = [row(f"{PREFIX}h-{k:03d}", *endpoints[k])
                for k in range(HEALTHY)]
        rows += [row(f"{PREFIX}silent", "127.77.200.1", PORT),
                 row(f"{PREFIX}reset", "127.77.200.2", PORT)]
        r = admin.post("/api/servers/import", rows)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == len(rows), r.text[:2000]
        yield {"healthy": healthy, "silent": silent, "reset": resets,
               "spare": endpoints[HEALTHY]}
    finally:
        # The servers go first, so that their sessions close while the
        # BMCs still answer.
        silent.signal(signal.SIGCONT)
        ids = psql("SELECT id FROM server_mgmt.servers WHERE name LIKE "
                   f"'{PREFIX}%'")
        for sid in ids.split():
            admin.delete(f"/api/servers/{sid}")
        try:
            wait_for(lambda: metrics().get("osh_ipmi_workers_busy") == 0,
                     timeout=10, what="sessions closed")
        except AssertionError:
            pass
        for b in every:
            b.stop()


def test_faulty_bmcs_do_not_slow_the_rest(admin, bmcs):
    # Every server polled once, the healthy ones online.
    wait_for(lambda: max(ages(PREFIX + "%")) < INTERVAL_S * 3, timeout=30,
             what="every server polled")
    wait_for(lambda: psql(
        "SELECT count(*) FROM server_mgmt.servers WHERE name LIKE "
        f"'{PREFIX}%' AND "
        "status = 'online'") == str(HEALTHY + 2), timeout=10,
        what="all online")

    base, base_overruns = rounds_for(2, timeout=30)
    print(f"\nrounds without faults: {base} s, overruns {base_overruns}")

    # The faults, all at once.
    bmcs["silent"].signal(signal.SIGSTOP)
    r = admin.post("/api/servers", row(f"{PREFIX}wrongpw", *bmcs["spare"],
                                       password="not-the-password"))
    assert r.status_code == 201, r.text
    stuck = metrics().get("osh_ipmi_stuck_sessions_total", 0)
    bmcs["reset"].signal(signal.SIGKILL)
    os.waitpid(bmcs["reset"].pid, 0)
    bmcs["reset"].start()
    reset_at = time.time()

    # Each seen for what it is; the reset BMC answers again on a new
    # session.
    wait_for(lambda: status(f"{PREFIX}silent").startswith("offline"),
             timeout=15, what="the silent BMC reported")
    wait_for(lambda: status(f"{PREFIX}wrongpw").startswith("auth_failed"),
             timeout=15, what="the wrong password reported")

    def reset_back():
        s = psql("SELECT status, extract(epoch FROM last_seen) FROM "
                 "server_mgmt.servers "
                 f"WHERE name = '{PREFIX}reset'").split("|")
        return s[0] == "online" and float(s[1]) > reset_at
    wait_for(reset_back, timeout=20, what="the reset BMC back online")

    # From now on the faults are known: rounds do not wait for them.
    faulty, overruns = rounds_for(3, timeout=30)
    m = metrics()
    print(f"rounds with faults: {faulty} s, overruns {overruns}; "
          "stuck sessions "
          f"{m.get('osh_ipmi_stuck_sessions_total', 0) - stuck}")
    # A round that waited for the silent BMC would last its deadline at
    # least (the bound widens when the machine is so slow that rounds
    # without faults come near it, under SAN=1, say).
    assert max(faulty) < max(DEADLINE_S, 1.5 * max(base) + 0.5), \
        "a round waited out a BMC deadline"
    # An overrun is a round that outlasted the interval (the next one
    # waited for it, never overlapped): on a machine so slow that rounds
    # without faults come near the interval, some do; no more of them
    # than of the rounds that did (one more for a round being counted as
    # they were read), and rounds' durations are bounded above.
    long_rounds = sum(d > INTERVAL_S for d in faulty)
    assert overruns <= max(base_overruns, long_rounds + 1), \
        (overruns, faulty, base_overruns)
    # Every healthy server is polled at the interval meanwhile.
    assert max(ages(PREFIX + "h-%")) < INTERVAL_S + max(faulty) + 0.5
    assert psql(f"SELECT count(*) FROM server_mgmt.servers WHERE name LIKE "
                f"'{PREFIX}h-%' AND status = 'online'") == str(HEALTHY)
    # The faulty ones stay reported as such, in the failing lane, which
    # never holds more than its share of the slots (but for due polls
    # moved to it for being slow, which take no slot).
    assert status(f"{PREFIX}silent").startswith("offline")
    assert status(f"{PREFIX}wrongpw").startswith("auth_failed")
    assert m['osh_poll_servers{state="failing"}'] >= 2
    assert m['osh_poll_requests_in_flight{lane="failing"}'] <= 16 + \
        m.get("osh_poll_slow_moved_total", 0)


def stop_server_mgmt():
    """SIGTERM, waited for; returns what it logged meanwhile."""
    log = RUN / "logs" / "server-mgmt.log"
    start = log.stat().st_size
    pid = int((RUN / "pids" / "server-mgmt.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30,
             what="osh-server-mgmt to stop")
    with open(log, errors="replace") as f:
        f.seek(start)
        return f.read()


def start_server_mgmt():
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "start",
                    "server-mgmt"], check=True, capture_output=True,
                   timeout=120, env=dict(os.environ))


def assert_clean_end(tail):
    """Under SAN=1, run.sh also fails the run on any sanitizer report."""
    assert 'msg="stopped"' in tail, tail[-2000:]
    for bad in ("corrupted", "double free", "free():", "malloc(",
                "Sanitizer", "runtime error", "Segmentation"):
        assert bad not in tail, tail[-4000:]


def test_stop_while_workers_wait_on_silent_bmcs(bmcs):
    """server-mgmt stopped (SIGTERM) while its IPMI worker threads wait on
    BMCs gone silent mid-session: it leaves them to the exit and ends
    cleanly, without touching memory they use."""
    silent = bmcs["healthy"][:12]  # 132 BMCs with sessions open
    for b in silent:
        b.signal(signal.SIGSTOP)
    try:
        wait_for(lambda: metrics().get("osh_ipmi_workers_busy", 0) >= 16,
                 timeout=20, what="workers waiting on silent BMCs")
        assert_clean_end(stop_server_mgmt())
    finally:
        for b in silent:
            b.signal(signal.SIGCONT)
        start_server_mgmt()


def test_stop_while_a_round_lists_its_servers(bmcs):
    """server-mgmt stopped while the poller's round waits for its list of
    servers (the table locked meanwhile): the database pool fails the
    query on its way out, after the poller is gone; that answer once went
    to the freed poller ("corrupted size vs. prev_size" at exit)."""
    env = dict(os.environ, PGPASSWORD=(RUN / "secrets" / "db-password")
               .read_text().strip(), PGAPPNAME="pf-lock")
    stop_server_mgmt()
    lock = subprocess.Popen(
        ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "osh", "-d",
         "osh", "-At", "-c", "BEGIN; LOCK TABLE server_mgmt.servers IN "
         "ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start_server_mgmt()
        wait_for(lambda: psql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
            "'Lock' AND query LIKE '%FROM servers WHERE credentials IS NOT "
            "NULL ORDER BY id%'") != "0", timeout=20,
            what="the round's list waiting")
        assert_clean_end(stop_server_mgmt())
    finally:
        lock.kill()
        lock.wait()
        psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE application_name = 'pf-lock'")
        start_server_mgmt()

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
import importlib.machinery
import importlib.util
import os
import re
import signal
import time

import pytest
import requests

from conftest import OFF, PORTS, RUN, TOP, psql, wait_for

SIMS, CHANNELS = 46, 11
HEALTHY = 500
PORT = 9160 + OFF
INTERVAL_S, DEADLINE_S = 2.0, 3.0  # tests/integration/run.sh
SM_METRICS = f"http://127.0.0.1:{PORTS['server-mgmt']}/metrics"
ROOT = RUN / "pollsim"
PREFIX = "pf-"


def _oshsim():
    path = str(TOP / "deploy" / "sim" / "osh-sim")
    loader = importlib.machinery.SourceFileLoader("oshsim", path)
    spec = importlib.util.spec_from_loader("oshsim", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


SIM = _oshsim()


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
        text = SIM.LAN_TEXT(d)
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
    assert overruns == 0 or overruns <= base_overruns
    # Every healthy server is polled at the interval meanwhile.
    assert max(ages(PREFIX + "h-%")) < INTERVAL_S + max(faulty) + 0.5
    assert psql(f"SELECT count(*) FROM server_mgmt.servers WHERE name LIKE "
                f"'{PREFIX}h-%' AND status = 'online'") == str(HEALTHY)
    # The faulty ones stay reported as such, in the failing lane, which
    # never holds more than its share of the slots.
    assert status(f"{PREFIX}silent").startswith("offline")
    assert status(f"{PREFIX}wrongpw").startswith("auth_failed")
    assert m['osh_poll_servers{state="failing"}'] >= 2
    assert m['osh_poll_requests_in_flight{lane="failing"}'] <= 16

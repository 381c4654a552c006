#!/usr/bin/env python3
"""Benchmark: the status poller at fleet scale. Starts a stack of its own
(OSH_PORT_OFFSET, default 21000), 10,000 servers imported (monitoring
on, IMPORT_BATCH rows a request, 500 by default): nine tenths at
simulated BMCs that answer, one tenth at addresses where a BMC stays silent (packets dropped), then
prints, round by round, how long a round took, the BMC requests in
flight (sampled), overruns and servers passed over, and the stack's CPU.

  OSH_PORT_OFFSET=21000 python3 tests/bench/poller.py
  SERVERS=10000 SILENT_SHARE=0.1 ROUNDS=4 OSH_POLL_INTERVAL_S=30 ...

The answering BMCs are real ipmi_sim endpoints with a small board (no
sensors: the poller asks chassis status and device id, and the FRU once):
each ipmi_sim serves eleven LAN channels at loopback addresses of their
own (127.76.x.y), so 9,000 take 819 processes (about 6 MB each; started
in a few seconds). Every silent one is an address of 127.75.x.y at a
port where one process reads and drops every datagram. Not run by
`make bench` (it takes minutes and a GB or so): run it by hand."""
import http.client
import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OFF = int(os.environ.get("OSH_PORT_OFFSET", "21000"))
RUN = Path(os.environ.get("OSH_RUN_DIR", TOP / "build" / "bench-poller"))
SERVERS = int(os.environ.get("SERVERS", "10000"))
SILENT = int(SERVERS * float(os.environ.get("SILENT_SHARE", "0.1")))
ROUNDS = int(os.environ.get("ROUNDS", "4"))
CHANNELS = 11
PORT, SILENT_PORT = 9500 + OFF, 9501 + OFF
GW = ("127.0.0.1", 8080 + OFF)
SM = ("127.0.0.1", 8102 + OFF)
TICK = os.sysconf("SC_CLK_TCK")


def oshsim():
    path = str(TOP / "deploy" / "sim" / "osh-sim")
    loader = importlib.machinery.SourceFileLoader("oshsim", path)
    spec = importlib.util.spec_from_loader("oshsim", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


SIM = oshsim()


def start_sim(index, addrs):
    """An ipmi_sim with osh-sim's identity and FRU but no sensors, a LAN
    channel per address."""
    d, _s, _x = SIM.describe(str(RUN / "sims"), index, PORT, "normal",
                             "admin", "secret")
    d["dir"] = str(RUN / "sims" / f"b{index}")
    d["sel"] = []
    os.makedirs(os.path.join(d["dir"], "state"), exist_ok=True)
    fru = SIM.fru(d["manufacturer"], d["product"], d["serial"],
                  d["part_number"], "CH" + d["serial"])
    with open(os.path.join(d["dir"], "sim.emu"), "w") as f:
        f.write(SIM.emu_text(d, [], [], fru))
    with open(os.path.join(d["dir"], "power"), "w") as f:
        f.write("1\n")
    text = SIM.lan_text(d)
    start = text.index("  startlan 1")
    end = text.index("  endlan\n") + len("  endlan\n")
    block = text[start:end]
    lans = ""
    for ch, addr in enumerate(addrs, 1):
        lans += block.replace("startlan 1", f"startlan {ch}").replace(
            f"addr 127.0.0.1 {PORT}", f"addr {addr} {PORT}")
    with open(os.path.join(d["dir"], "lan.conf"), "w") as f:
        f.write(text[:start] + lans + text[end:])
    return subprocess.Popen(
        ["ipmi_sim", "-c", os.path.join(d["dir"], "lan.conf"), "-f",
         os.path.join(d["dir"], "sim.emu"), "-s",
         os.path.join(d["dir"], "state"), "-n"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True)


def api(method, path, token=None, body=None):
    c = http.client.HTTPConnection(*GW, timeout=120)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    c.request(method, path, json.dumps(body) if body is not None else None,
              h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None


def metrics():
    c = http.client.HTTPConnection(*SM, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out = {}
    for line in text.splitlines():
        if line.startswith(("osh_poll", "osh_ipmi_workers_busy",
                            "osh_ipmi_sessions_open")):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def stack_cpu():
    names = ("osh-server-mgmt", "postgres")
    out = subprocess.run(["ps", "-eo", "pid,comm"], capture_output=True,
                         text=True).stdout.split("\n")[1:]
    total = {}
    for line in out:
        if not line.strip():
            continue
        pid, comm = line.split(None, 1)
        for n in names:
            if n in comm:
                try:
                    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1]
                    f = f.split()
                    total[n] = total.get(n, 0) + (int(f[11]) + int(f[12])) \
                        / TICK
                except OSError:
                    pass
    return total


def main():
    env = dict(os.environ, OSH_PORT_OFFSET=str(OFF), OSH_RUN_DIR=str(RUN),
               OSH_LOG_LEVEL="warn",
               OSH_POLL_INTERVAL_S=os.environ.get("OSH_POLL_INTERVAL_S",
                                                  "30"))
    healthy = SERVERS - SILENT
    procs = []
    stack = ["bash", str(TOP / "deploy" / "local" / "stack.sh")]
    subprocess.run(stack + ["down"], env=env, capture_output=True)
    # A fresh stack, like tests/integration/run.sh: its data dir may live
    # elsewhere (stack.sh's fallback), linked from the run dir.
    pg = RUN / "pg"
    if pg.is_symlink():
        shutil.rmtree(os.path.realpath(pg), ignore_errors=True)
    shutil.rmtree(RUN, ignore_errors=True)
    (RUN / "logs").mkdir(parents=True)
    try:
        if subprocess.run(stack + ["up"], env=env,
                          capture_output=True).returncode != 0:
            sys.exit("poller bench: the stack did not start")
        t0 = time.time()
        addrs = [f"127.76.{k // 250}.{k % 250 + 1}" for k in range(healthy)]
        for i in range(0, healthy, CHANNELS):
            procs.append(start_sim(i // CHANNELS, addrs[i:i + CHANNELS]))
        procs.append(subprocess.Popen(
            [sys.executable, str(TOP / "deploy" / "sim" / "silent.py"),
             "0.0.0.0", str(SILENT_PORT)], start_new_session=True))
        SIM.wait_up([{"kind": "normal", "host": a, "port": PORT, "pid":
                      procs[k // CHANNELS].pid, "name": a, "dir": str(RUN)}
                     for k, a in enumerate(addrs)], timeout=120)
        print(f"{len(procs) - 1} ipmi_sim processes serving {healthy} BMCs, "
              f"{SILENT} silent addresses: up in {time.time() - t0:.1f} s")

        password = (RUN / "admin-password").read_text().strip()
        st, tok = api("POST", "/api/auth/login",
                      body={"username": "admin", "password": password})
        token = tok["access_token"]
        rows = [{"name": f"bench-{k:05d}", "bmc_address": f"{a}:{PORT}",
                 "workarounds": ["opensesspriv"],
                 "credentials": {"username": "admin", "password": "secret"}}
                for k, a in enumerate(addrs)]
        rows += [{"name": f"bench-silent-{k:05d}",
                  "bmc_address": f"127.75.{k // 250}.{k % 250 + 1}:"
                                 f"{SILENT_PORT}",
                  "workarounds": ["opensesspriv"],
                  "credentials": {"username": "admin", "password": "secret"}}
                 for k in range(SILENT)]
        t0 = time.time()
        batch = int(os.environ.get("IMPORT_BATCH", "500"))
        for i in range(0, len(rows), batch):
            st, res = api("POST", "/api/servers/import", token,
                          rows[i:i + batch])
            if st != 200 or res["created"] != len(rows[i:i + batch]):
                sys.exit(f"poller bench: import answered {st}: "
                         f"{str(res)[:300]}")
        print(f"{len(rows)} servers imported in {time.time() - t0:.1f} s")

        m = metrics()
        seen = m.get("osh_poll_rounds_total", 0)
        cpu0, t0 = stack_cpu(), time.time()
        peak = {"due": 0, "failing": 0, "workers": 0}
        print("round  duration_s  in_flight_peak(due,failing)  "
              "workers_peak  overruns  polled_ok  failed  backed_off  "
              "skipped(backoff,in_flight,lane_full)")
        done = 0
        prev = m
        while done < ROUNDS:
            time.sleep(0.2)
            m = metrics()
            peak["due"] = max(peak["due"], m.get(
                'osh_poll_requests_in_flight{lane="due"}', 0))
            peak["failing"] = max(peak["failing"], m.get(
                'osh_poll_requests_in_flight{lane="failing"}', 0))
            peak["workers"] = max(peak["workers"],
                                  m.get("osh_ipmi_workers_busy", 0))
            if m.get("osh_poll_rounds_total", 0) <= seen:
                continue
            seen = m["osh_poll_rounds_total"]
            done += 1

            def d(k):
                return int(m.get(k, 0) - prev.get(k, 0))
            ok = d('osh_poll_requests_total{result="ok"}')
            failed = d('osh_poll_requests_total{result="failed"}')
            skipped = ",".join(str(d(f'osh_poll_skipped_total{{reason="{r}"}}'))
                               for r in ("backoff", "in_flight",
                                         "failing_lane_full"))
            print(f"{done:5d}  "
                  f"{m['osh_poll_last_round_duration_seconds']:10.2f}  "
                  f"{int(peak['due']):14d},{int(peak['failing']):<13d}  "
                  f"{int(peak['workers']):12d}  "
                  f"{int(m['osh_poll_overruns_total']):8d}  {ok:9d}  "
                  f"{failed:6d}  {int(m['osh_poll_backed_off']):10d}  "
                  f"{skipped}", flush=True)
            peak = {"due": 0, "failing": 0, "workers": 0}
            prev = m
        cpu1, wall = stack_cpu(), time.time() - t0
        for n in cpu1:
            print(f"cpu {n}: {cpu1[n] - cpu0.get(n, 0):.1f} s over "
                  f"{wall:.1f} s ({(cpu1[n] - cpu0.get(n, 0)) / wall:.2f} "
                  "cores)")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(stack + ["down"], env=env, capture_output=True)


if __name__ == "__main__":
    main()

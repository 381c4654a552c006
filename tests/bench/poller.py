#!/usr/bin/env python3
"""Benchmark: the status poller at fleet scale (issue 8: "a round's
duration and the BMC requests in flight are metrics; a round never
overlaps the next; an unreachable tenth of the fleet does not slow the
rest").

A stack of its own (OSH_PORT_OFFSET, 21000 by default; run dir
build/bench-poller-run), then:
  1. the answering BMCs: real ipmi_sim endpoints with a small board (no
     sensors: the poller asks chassis status and device id, and the FRU
     once), SIM_CHANNELS LAN channels each (13: one address a channel is
     all ipmi_sim takes), at loopback addresses of their own
     (127.76.x.y). 9,000 take 693 processes of about 6 MB, started
     SIM_BATCH at a time, each batch waited for (every address answers an
     RMCP ping) before the next. No chassis_control program: ipmi_sim
     would fork a shell for every Get Chassis Status, and at 10,000 BMCs
     polled and kept alive that is over a thousand forks a second, which
     measures the simulator rather than the poller;
  2. the nine tenths that answer imported (IMPORT_BATCH rows a request,
     retried on 429/502/503/504 after Retry-After, and on time-outs; a
     row already there from a try whose answer was lost counts), then
     BASELINE_ROUNDS full rounds measured without any silent BMC;
  3. the silent tenth imported: addresses of 127.75.x.y at a port where
     one process reads and drops every datagram; then ROUNDS full rounds
     measured (the first one is when those BMCs fail for the first time,
     the rest are the steady state).

A round is counted when it listed the whole fleet of its phase. For each
one: its duration, the BMC requests in flight (peak of samples every
0.25 s, by lane), overruns, polls answered and failed, servers passed
over (by reason), how the answering BMCs were served (any not polled in
the round; the longest time between two polls of one server, against
the interval; any not online), the CPU (cores) of server-mgmt, its
PostgreSQL and the simulators over the round, and server-mgmt's
resident memory. The end prints a summary beside the issue's targets.

  OSH_PORT_OFFSET=21000 python3 tests/bench/poller.py   (make bench-poller)
  SERVERS=10000 SILENT_SHARE=0.1 ROUNDS=4 BASELINE_ROUNDS=2
  OSH_POLL_INTERVAL_S=30 (the service's default) and any other OSH_*
  setting of server-mgmt pass through.

Not in `make bench`: it takes about ten minutes and 5 GB of memory.
Every simulator it starts is stopped at the end, on failure and on
SIGINT/SIGTERM/SIGHUP too; their pids are kept in the run dir, so a run
killed outright (SIGKILL) has its leftovers stopped by the next one.
Asserts nothing about timings: it prints figures."""
import http.client
import importlib.machinery
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OFF = int(os.environ.get("OSH_PORT_OFFSET", "21000"))
BUILD = os.environ.get("BUILD", "build")
RUN = Path(os.environ.get("OSH_RUN_DIR", TOP / BUILD / "bench-poller-run"))
SERVERS = int(os.environ.get("SERVERS", "10000"))
SILENT = int(SERVERS * float(os.environ.get("SILENT_SHARE", "0.1")))
HEALTHY = SERVERS - SILENT
ROUNDS = int(os.environ.get("ROUNDS", "4"))
BASELINE = int(os.environ.get("BASELINE_ROUNDS", "2"))
INTERVAL = int(os.environ.get("OSH_POLL_INTERVAL_S", "30"))
CHANNELS = int(os.environ.get("SIM_CHANNELS", "13"))
SIM_BATCH = int(os.environ.get("SIM_BATCH", "64"))
IMPORT_BATCH = int(os.environ.get("IMPORT_BATCH", "500"))
PORT, SILENT_PORT = 9500 + OFF, 9501 + OFF
GW = ("127.0.0.1", 8080 + OFF)
SM = ("127.0.0.1", 8102 + OFF)
PG_PORT = 15432 + OFF
TICK = os.sysconf("SC_CLK_TCK")
PIDS = RUN / "sims.pids"
PING = bytes([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x00,
              0x00, 0x00])
STACK = ["bash", str(TOP / "deploy" / "local" / "stack.sh")]
ENV = dict(os.environ, OSH_PORT_OFFSET=str(OFF), OSH_RUN_DIR=str(RUN),
           OSH_LOG_LEVEL=os.environ.get("OSH_LOG_LEVEL", "warn"),
           OSH_POLL_INTERVAL_S=str(INTERVAL))


def oshsim():
    path = str(TOP / "deploy" / "sim" / "osh-sim")
    loader = importlib.machinery.SourceFileLoader("oshsim", path)
    spec = importlib.util.spec_from_loader("oshsim", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


SIM = oshsim()


def healthy_addr(k):
    return f"127.76.{k // 250}.{k % 250 + 1}"


def silent_addr(k):
    return f"127.75.{k // 250}.{k % 250 + 1}"


# Simulators: started by batches, pids written down at once.

def ours(pid):
    """Whether pid is still a process this bench (this run dir) started."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return str(RUN).encode() in f.read()
    except OSError:
        return False


def stop_sims(pids):
    for pid in pids:
        if ours(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def stop_leftovers():
    """A run killed outright left its simulators: stop them by pid."""
    try:
        pids = [int(x) for x in PIDS.read_text().split()]
    except (OSError, ValueError):
        return
    stop_sims(pids)


def start_sim(index, addrs, pidf):
    """An ipmi_sim with osh-sim's identity and FRU but no sensors and no
    chassis program, a LAN channel per address."""
    d, _s, _x = SIM.describe(str(RUN / "sims"), index, PORT, "normal",
                             "admin", "secret")
    d["dir"] = str(RUN / "sims" / f"b{index}")
    d["sel"] = []
    os.makedirs(os.path.join(d["dir"], "state"), exist_ok=True)
    fru = SIM.fru(d["manufacturer"], d["product"], d["serial"],
                  d["part_number"], "CH" + d["serial"])
    with open(os.path.join(d["dir"], "sim.emu"), "w") as f:
        f.write(SIM.emu_text(d, [], [], fru))
    text = SIM.lan_text(d)
    start = text.index("  startlan 1")
    end = text.index("  endlan\n") + len("  endlan\n")
    block = text[start:end]
    lans = ""
    for ch, addr in enumerate(addrs, 1):
        lans += block.replace("startlan 1", f"startlan {ch}").replace(
            f"addr 127.0.0.1 {PORT}", f"addr {addr} {PORT}")
    rest = "".join(line for line in text[end:].splitlines(True)
                   if "chassis_control" not in line and
                   "loadlib" not in line)
    with open(os.path.join(d["dir"], "lan.conf"), "w") as f:
        f.write(text[:start] + lans + rest)
    p = subprocess.Popen(
        ["ipmi_sim", "-c", os.path.join(d["dir"], "lan.conf"), "-f",
         os.path.join(d["dir"], "sim.emu"), "-s",
         os.path.join(d["dir"], "state"), "-n"],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d["dir"], "sim.log"), "w"),
        stdin=subprocess.DEVNULL, start_new_session=True)
    pidf.write(f"{p.pid}\n")
    pidf.flush()
    return p


def wait_answering(addrs, procs, timeout=60):
    """Pings every address until each answered: one socket, all at once."""
    pending = set(addrs)
    deadline = time.time() + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        while pending:
            if time.time() > deadline:
                sys.exit(f"poller bench: {len(pending)} simulated BMCs do "
                         f"not answer, e.g. {sorted(pending)[0]}; see "
                         f"{RUN}/sims/*/sim.log")
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                sys.exit(f"poller bench: ipmi_sim {dead[0].pid} exited "
                         f"({dead[0].returncode}); see {RUN}/sims/*/sim.log")
            for a in pending:
                s.sendto(PING, (a, PORT))
            end = time.time() + 0.3
            while time.time() < end:
                r, _w, _x = select.select([s], [], [], end - time.time())
                if not r:
                    break
                _data, src = s.recvfrom(512)
                pending.discard(src[0])
    finally:
        s.close()


def start_fleet(procs):
    addrs = [healthy_addr(k) for k in range(HEALTHY)]
    t0 = time.time()
    with open(PIDS, "a") as pidf:
        procs.append(subprocess.Popen(
            [sys.executable, str(TOP / "deploy" / "sim" / "silent.py"),
             "0.0.0.0", str(SILENT_PORT), str(RUN)],
            start_new_session=True))
        pidf.write(f"{procs[-1].pid}\n")
        step = CHANNELS * SIM_BATCH
        for i in range(0, HEALTHY, step):
            batch = []
            for j in range(i, min(i + step, HEALTHY), CHANNELS):
                batch.append(start_sim(j // CHANNELS,
                                       addrs[j:j + CHANNELS], pidf))
            procs.extend(batch)
            wait_answering(addrs[i:i + step], batch)
    print(f"{len(procs) - 1} ipmi_sim processes ({CHANNELS} BMCs each) "
          f"serving {HEALTHY} BMCs, answering in {time.time() - t0:.1f} s; "
          f"{SILENT} silent addresses", flush=True)


# The API, with retries where the service says "later".

def api(method, path, token=None, body=None, timeout=30):
    c = http.client.HTTPConnection(*GW, timeout=timeout)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    try:
        c.request(method, path,
                  json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return r.status, doc, r.getheader("Retry-After")
    finally:
        c.close()


def login():
    password = (RUN / "admin-password").read_text().strip()
    for attempt in range(10):
        try:
            st, doc, after = api("POST", "/api/auth/login", body={
                "username": "admin", "password": password})
            if st == 200:
                return doc["access_token"]
        except (OSError, http.client.HTTPException):
            st, after = "no answer", None
        time.sleep(float(after or 1 + attempt))
    sys.exit(f"poller bench: login answered {st}")


def import_rows(rows):
    """Imports rows by IMPORT_BATCH a request. A batch answered 429 or
    5xx, or not at all, is sent again after Retry-After (or a growing
    wait); rows refused as already there (name_taken) were created by a
    try whose answer was lost."""
    token = login()
    t0 = time.time()
    retries = 0
    for i in range(0, len(rows), IMPORT_BATCH):
        batch = rows[i:i + IMPORT_BATCH]
        for attempt in range(12):
            try:
                st, res, after = api("POST", "/api/servers/import", token,
                                     batch, timeout=300)
            except (OSError, http.client.HTTPException) as e:
                st, res, after = f"no answer ({e})", None, None
            if st == 200:
                break
            if st == 401:
                token = login()
            elif st not in (429, 502, 503, 504) and \
                    not str(st).startswith("no answer"):
                sys.exit(f"poller bench: import answered {st}: "
                         f"{str(res)[:300]}")
            retries += 1
            wait = float(after) if after else min(2 ** attempt, 30)
            print(f"  import of rows {i}..{i + len(batch) - 1}: {st}, "
                  f"again in {wait:.0f} s", flush=True)
            time.sleep(wait)
        else:
            sys.exit(f"poller bench: import of rows {i}.. kept failing")
        bad = [r for r in res["rows"] if r["status"] != "created" and
               r.get("error", {}).get("code") != "name_taken"]
        if bad:
            sys.exit(f"poller bench: import refused rows: {bad[:3]}")
    print(f"{len(rows)} servers imported in {time.time() - t0:.1f} s "
          f"({retries} retries)", flush=True)


def rows_of(prefix, addr, port, n):
    return [{"name": f"{prefix}-{k:05d}", "bmc_address": f"{addr(k)}:{port}",
             "workarounds": ["opensesspriv"],
             "credentials": {"username": "admin", "password": "secret"}}
            for k in range(n)]


# What is measured.

def metrics():
    for attempt in range(10):
        c = http.client.HTTPConnection(*SM, timeout=30)
        try:
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            break
        except (OSError, http.client.HTTPException) as e:
            print(f"  /metrics: {e}; again", flush=True)
            time.sleep(1)
        finally:
            c.close()
    else:
        sys.exit("poller bench: server-mgmt's /metrics does not answer")
    out = {}
    for line in text.splitlines():
        if line.startswith(("osh_poll", "osh_ipmi_workers_busy",
                            "osh_ipmi_sessions_open")):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def psql(sql):
    env = dict(os.environ, PGPASSWORD=(RUN / "secrets" / "db-password")
               .read_text().strip())
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT),
                          "-U", "osh", "-d", "osh", "-At", "-c", sql],
                         capture_output=True, text=True, env=env,
                         timeout=60)
    if out.returncode != 0:
        sys.exit(f"poller bench: psql: {out.stderr.strip()}")
    return out.stdout


def healthy_polls():
    """id -> when it was last polled (epoch s), of the answering servers;
    and how many of them are not online."""
    polled, offline = {}, 0
    for line in psql("SELECT id, coalesce(extract(epoch FROM last_polled), "
                     "0), status FROM server_mgmt.servers WHERE name LIKE 'bench-h-%'"
                     ).splitlines():
        i, t, status = line.split("|")
        polled[int(i)] = float(t)
        offline += status != "online"
    return polled, offline


def round_start(m):
    """When the round that just finished began (epoch s), from the
    poller's metrics."""
    return m.get("osh_poll_last_round_end_timestamp_seconds", 0) - \
        m.get("osh_poll_last_round_duration_seconds", 0)


def cpu_s(pids):
    total = 0.0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / TICK
        except (OSError, IndexError):
            pass
    return total


def rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def stack_pids():
    """server-mgmt's pid, and its PostgreSQL's (the postmaster and its
    children)."""
    sm = int((RUN / "pids" / "server-mgmt.pid").read_text())
    pg = []
    for f in (RUN / "pg" / "postmaster.pid", RUN / "pg" / "data" /
              "postmaster.pid"):
        if f.exists():
            pg = [int(f.read_text().split()[0])]
            break
    if pg:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pg[0])],
                             capture_output=True, text=True).stdout
        pg += [int(x) for x in out.split()]
    return sm, pg


def measure(phase, rounds, procs):
    """Measures `rounds` full rounds (each listed every server there is
    now: the stack may have a few of its own)."""
    fleet = int(psql("SELECT count(*) FROM server_mgmt.servers"))
    sm, pg = stack_pids()
    sims = [p.pid for p in procs]
    m = metrics()
    seen = m.get("osh_poll_rounds_total", 0)
    prev_m = m
    prev_polls, _off = healthy_polls()
    cpu0 = (cpu_s([sm]), cpu_s(pg), cpu_s(sims), time.time())
    peak = {"due": 0, "failing": 0, "workers": 0}
    out = []
    print(f"\n{phase}: {fleet} servers, interval {INTERVAL} s")
    print("round  dur_s  in_flight_peak  workers  overrun  ok     failed  "
          "passed_over(backoff,in_flight,lane_full,refused)  backed_off  "
          "healthy:not_polled,max_gap_s,offline  cpu(sm,pg,sims)  "
          "sm_rss_MB  sessions", flush=True)
    deadline = time.time() + (rounds + 3) * max(INTERVAL, 120)
    while len(out) < rounds:
        if time.time() > deadline:
            sys.exit("poller bench: no full round ends; the poller's "
                     f"metrics: {m}")
        time.sleep(0.25)
        m = metrics()
        for lane in ("due", "failing"):
            peak[lane] = max(peak[lane], m.get(
                f'osh_poll_requests_in_flight{{lane="{lane}"}}', 0))
        peak["workers"] = max(peak["workers"],
                              m.get("osh_ipmi_workers_busy", 0))
        if m.get("osh_poll_rounds_total", 0) <= seen:
            continue
        seen = m["osh_poll_rounds_total"]
        polls, offline = healthy_polls()
        cpu1 = (cpu_s([sm]), cpu_s(pg), cpu_s(sims), time.time())
        full = m.get('osh_poll_servers{state="all"}', 0) == fleet

        def d(k):
            return int(m.get(k, 0) - prev_m.get(k, 0))
        if full:
            wall = cpu1[3] - cpu0[3]
            gaps = [t - prev_polls[i] for i, t in polls.items()
                    if prev_polls.get(i) and t != prev_polls[i]]
            r = {
                "duration": m["osh_poll_last_round_duration_seconds"],
                "due": int(peak["due"]), "failing": int(peak["failing"]),
                "workers": int(peak["workers"]),
                "overruns": d("osh_poll_overruns_total"),
                "ok": d('osh_poll_requests_total{result="ok"}'),
                "failed": d('osh_poll_requests_total{result="failed"}'),
                "skipped": [d(f'osh_poll_skipped_total{{reason="{x}"}}')
                            for x in ("backoff", "in_flight",
                                      "failing_lane_full",
                                      "engine_refused")],
                "backed_off": int(m.get("osh_poll_backed_off", 0)),
                # Polled in the round: stored since it began (its end
                # as server-mgmt's clock has it, less its duration; an
                # overrun's next round may have begun before these
                # snapshots).
                "not_polled": sum(1 for t in polls.values()
                                  if t < round_start(m)),
                "max_gap": max(gaps) if gaps else 0.0,
                "offline": offline,
                "cpu": [(cpu1[k] - cpu0[k]) / wall for k in range(3)],
                "rss": rss_mb(sm),
                "sessions": int(m.get("osh_ipmi_sessions_open", 0)),
            }
            out.append(r)
            print(f"{len(out):5d}  {r['duration']:5.1f}  "
                  f"{r['due']:6d},{r['failing']:<7d}  {r['workers']:7d}  "
                  f"{r['overruns']:7d}  {r['ok']:5d}  {r['failed']:6d}  "
                  f"{','.join(str(x) for x in r['skipped']):49s}  "
                  f"{r['backed_off']:10d}  "
                  f"{r['not_polled']:5d},{r['max_gap']:5.1f},"
                  f"{r['offline']:<23d}  "
                  f"{r['cpu'][0]:.2f},{r['cpu'][1]:.2f},{r['cpu'][2]:.2f}"
                  f"{'':6s}  {r['rss']:9.0f}  {r['sessions']:8d}",
                  flush=True)
        peak = {"due": 0, "failing": 0, "workers": 0}
        prev_m, prev_polls, cpu0 = m, polls, cpu1
    return out


def summary(base, rounds):
    def mean(xs):
        return sum(xs) / len(xs) if xs else 0.0
    # First rounds open every session and read every FRU: the steady
    # state is what follows.
    steady = rounds[1:]
    dur_b = mean([r["duration"] for r in (base[1:] or base)])
    dur_s = mean([r["duration"] for r in steady])
    gap_s = max([r["max_gap"] for r in steady], default=0.0)
    missed = sum(r["not_polled"] for r in steady)
    over = sum(r["overruns"] for r in steady)
    cpu = mean([r["cpu"][0] for r in steady])
    rss = max([r["rss"] for r in rounds], default=0.0)
    first = rounds[0] if rounds else None
    print(f"\n== poller at {SERVERS} servers ({HEALTHY} answering, {SILENT} "
          f"silent), interval {INTERVAL} s: summary ==")
    print("(figures from a shared 2-core machine unless re-run on a quiet "
          "one)")
    rows = [
        ("round duration is a metric",
         "osh_poll_round_duration_seconds, "
         "osh_poll_last_round_duration_seconds"),
        ("BMC requests in flight is a metric",
         "osh_poll_requests_in_flight{lane}: peak due "
         f"{max((r['due'] for r in rounds), default=0)}, failing "
         f"{max((r['failing'] for r in rounds), default=0)}"),
        ("a round never overlaps the next",
         f"by construction (an overrun delays the next); steady rounds "
         f"{dur_s:.1f} s against the {INTERVAL} s interval, overruns "
         f"{over} of {len(steady)} (target 0)"),
        ("silent tenth does not slow the rest: round",
         f"steady {dur_s:.1f} s with it vs {dur_b:.1f} s without "
         f"(ratio {dur_s / dur_b:.2f}, target <= ~1)" if dur_b else
         f"steady {dur_s:.1f} s (no baseline run)"),
        ("every answering server polled every round",
         f"{missed} missed in {len(steady)} steady rounds (target 0); "
         f"longest gap {gap_s:.1f} s (target ~{INTERVAL} s)"),
    ]
    if first:
        rows.append(("round when the tenth first fails",
                     f"{first['duration']:.1f} s, overruns "
                     f"{first['overruns']}, longest gap "
                     f"{first['max_gap']:.1f} s, missed "
                     f"{first['not_polled']}"))
    rows.append(("server-mgmt CPU, memory",
                 f"{cpu:.2f} cores in steady rounds, RSS up to {rss:.0f} MB"))
    w = max(len(a) for a, _b in rows)
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")


def on_signal(signum, _frame):
    raise SystemExit(f"poller bench: signal {signum}, cleaning up")


def main():
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    procs = []
    stop_leftovers()
    subprocess.run(STACK + ["down"], env=ENV, capture_output=True)
    # A fresh stack, like tests/integration/run.sh: its data dir may live
    # elsewhere (stack.sh's fallback), linked from the run dir.
    pg = RUN / "pg"
    if pg.is_symlink():
        shutil.rmtree(os.path.realpath(pg), ignore_errors=True)
    shutil.rmtree(RUN, ignore_errors=True)
    (RUN / "logs").mkdir(parents=True)
    try:
        up = subprocess.run(STACK + ["up"], env=ENV, capture_output=True,
                            text=True)
        if up.returncode != 0:
            sys.exit("poller bench: the stack did not start:\n" +
                     (up.stdout + up.stderr)[-2000:])
        # Prometheus would have the exporter read every BMC's sensors at
        # each scrape (tests/bench/exporter.sh measures that): this
        # measures the poller alone.
        pid = int((RUN / "pids" / "prometheus.pid").read_text())
        if ours(pid):
            os.kill(pid, signal.SIGTERM)
        start_fleet(procs)
        import_rows(rows_of("bench-h", healthy_addr, PORT, HEALTHY))
        base = measure("without the silent tenth", BASELINE, procs) if BASELINE > 0 else []
        import_rows(rows_of("bench-s", silent_addr, SILENT_PORT, SILENT))
        rounds = measure("with the silent tenth", ROUNDS, procs)
        summary(base, rounds)
    finally:
        stop_sims([p.pid for p in procs])
        stop_leftovers()
        subprocess.run(STACK + ["down"], env=ENV, capture_output=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: power jobs across a fleet of simulated BMCs, through nginx,
beside ipmipower's own fan-out over the same BMCs (see jobs.sh)."""
import http.client
import importlib.machinery
import importlib.util
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
BUILD = os.environ.get("BUILD", "build")
OFF = int(os.environ.get("JOBS_PORT_OFFSET", "22000"))
RUN = TOP / BUILD / "bench-jobs-run"
BMCS = int(os.environ.get("JOBS_BMCS", "500"))
CHANNELS = 10  # LAN channels (BMCs) per ipmi_sim process
PER_RACK = 5  # ipmi_sim processes per rack: a rack's BMCs share a log
ROUNDS = int(os.environ.get("JOBS_ROUNDS", "3"))
CONC = int(os.environ.get("JOBS_CONCURRENCY", "64"))
STAGGER = int(os.environ.get("JOBS_STAGGER", "50"))  # starts/s overall
STAGGER_RACK = int(os.environ.get("JOBS_STAGGER_RACK", "5"))  # per rack
# The BMCs' port, on addresses of their own: below the kernel's
# ephemeral ports (32768 and up), where other processes' sockets would
# take it at random.
PORT = 9600 + OFF % 20000
GW = ("127.0.0.1", 8080 + OFF)
TICK = os.sysconf("SC_CLK_TCK")
WALL_TARGET, CPU_TARGET, STAGGER_TARGET = 1.5, 2.0, 0.10

ENV = dict(os.environ, OSH_RUN_DIR=str(RUN), OSH_PORT_OFFSET=str(OFF),
           BUILD=BUILD, OSH_LOG_LEVEL="warn", OSH_SIM_COUNT="0",
           # No status polling while jobs run: the poller's first round
           # comes before the import, the next after the benchmark.
           OSH_POLL_INTERVAL_S="3600",
           # As many BMC threads in server-mgmt as requests in flight
           # (the job's concurrency, ipmipower's fan-out): with fewer,
           # requests wait for a thread, not for the BMC.
           OSH_IPMI_THREADS=str(CONC),
           # server-mgmt writes about four statements a task (its record
           # before and after, the server's new state): with the default
           # 4 connections they queue at concurrency 64.
           OSH_DB_POOL_SIZE=os.environ.get("JOBS_DB_POOL_SIZE", "16"))


def oshsim():
    path = str(TOP / "deploy" / "sim" / "osh-sim")
    loader = importlib.machinery.SourceFileLoader("oshsim", path)
    spec = importlib.util.spec_from_loader("oshsim", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


SIM = oshsim()


def stack(cmd):
    return subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), cmd],
                          env=ENV, capture_output=True, text=True,
                          timeout=300)


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


#
# The fleet: ipmi_sim processes of CHANNELS LAN channels each, at
# 127.77.<process>.<channel>:PORT. A process has one chassis (power state
# and command log) for its channels, and all its BMCs are in one rack
# (PER_RACK processes a rack), so its log is that rack's.
#

def sim_dir(p):
    return RUN / "sims" / f"b{p}"


def start_sim(p, addrs):
    d, _s, _x = SIM.describe(str(RUN / "sims"), p, PORT, "normal",
                             "admin", "secret")
    d["dir"] = str(sim_dir(p))
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
    log = open(os.path.join(d["dir"], "sim.log"), "ab")
    return subprocess.Popen(
        ["ipmi_sim", "-c", os.path.join(d["dir"], "lan.conf"), "-f",
         os.path.join(d["dir"], "sim.emu"), "-s",
         os.path.join(d["dir"], "state"), "-n"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        start_new_session=True)


def nprocs():
    return (BMCS + CHANNELS - 1) // CHANNELS


def set_power(state):
    for p in range(nprocs()):
        tmp = sim_dir(p) / "power.tmp"
        tmp.write_text(f"{state}\n")
        os.replace(tmp, sim_dir(p) / "power")


def clear_commands():
    for p in range(nprocs()):
        try:
            os.unlink(sim_dir(p) / "commands")
        except OSError:
            pass


def commands():
    """{process: [(ms, "power 1"), ...]} logged since the last clear."""
    return {p: [(c["ms"], " ".join([c["command"]] + c["args"][:1]))
                for c in SIM.read_commands({"dir": str(sim_dir(p))})]
            for p in range(nprocs())}


#
# CPU: /proc/<pid>/stat of a stack's processes and their descendants
# (PostgreSQL's backends, nginx's workers), with what their exited
# children used.
#

def proc_stat(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[1]), sum(int(x) for x in f[11:15])  # ppid, u+s+cu+cs


def roots():
    def pidfile(path):
        try:
            return int(Path(path).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return {"server-mgmt": pidfile(RUN / "pids" / "server-mgmt.pid"),
            "cluster-mgmt": pidfile(RUN / "pids" / "cluster-mgmt.pid"),
            "auth": pidfile(RUN / "pids" / "auth.pid"),  # audit entries
            "nginx": pidfile(RUN / "nginx" / "nginx.pid"),
            "postgres": pidfile(
                Path(os.path.realpath(RUN / "pg")) / "data" /
                "postmaster.pid"),
            "redis": pidfile(RUN / "redis" / "redis.pid")}


def cpu():
    """Seconds of CPU so far per part of the stack."""
    stats = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                stats[int(e)] = proc_stat(e)
            except (OSError, IndexError, ValueError):
                pass
    out = {}
    for name, root in roots().items():
        group, todo = set(), [root] if root else []
        while todo:
            p = todo.pop()
            if p in group or p not in stats:
                continue
            group.add(p)
            todo += [q for q, (pp, _) in stats.items() if pp == p]
        out[name] = sum(stats[p][1] for p in group) / TICK
    return out


SERVICES = ("server-mgmt", "cluster-mgmt")


def cpu_delta(c0, c1):
    d = {k: c1[k] - c0.get(k, 0) for k in c1}
    return sum(d[k] for k in SERVICES), sum(d.values()), d


#
# One job, and one ipmipower run.
#

def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def run_job(token, body):
    """Wall (POST to the last task achieved, or ended), CPU (services,
    whole stack) and whether every task succeeded."""
    c0, t0 = cpu(), time.time()
    st, job = api("POST", "/api/jobs", token, body)
    if st != 201:
        sys.exit(f"jobs bench: POST /api/jobs answered {st}: {job}")
    # Watched the way a client would, but not so often that the watching
    # costs the stack much: the wall time comes from the tasks' times.
    while job["state"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.5)
        _, job = api("GET", f"/api/jobs/{job['id']}", token)
    c1 = cpu()
    items = []
    while len(items) < job["total"]:
        _, page = api("GET", f"/api/jobs/{job['id']}/tasks?limit=1000&"
                      f"offset={len(items)}", token)
        items += page["items"]
        if not page["items"]:
            break
    last = max(ts(t["achieved_at"] or t["finished_at"]) for t in items)
    # Where a task's time goes: POST to accepted (the command's answer
    # stored) and accepted to achieved (verify), medians in ms.
    acc = [ts(t["accepted_at"]) - t0 for t in items if t.get("accepted_at")]
    ach = [ts(t["achieved_at"]) - ts(t["accepted_at"]) for t in items
           if t.get("achieved_at") and t.get("accepted_at")]
    phases = (1000 * statistics.median(acc) if acc else 0,
              1000 * statistics.median(ach) if ach else 0)
    svc, whole, parts = cpu_delta(c0, c1)
    ok = job["state"] == "succeeded" and \
        job["counts"]["succeeded"] == BMCS == len(items)
    return {"wall": last - t0, "svc": svc, "stack": whole, "parts": parts,
            "phases": phases, "ok": ok, "job": job, "tasks": items, "logged": None}


def ipmipower(conf, hosts, flags):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    out = subprocess.run(["ipmipower", f"--config-file={conf}", "-D",
                          "LAN_2_0", "-h", hosts, f"--fanout={CONC}"] +
                         flags, capture_output=True, text=True)
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    want = ("on", "off") if "--stat" in flags else ("ok",)
    good = sum(1 for ln in lines if ln.rsplit(": ", 1)[-1] in want)
    return {"wall": wall, "cpu": cpu_s, "ok": good == BMCS,
            "good": good, "out": out.stdout + out.stderr, "logged": None}


def logged(want):
    """How many commands `want` ("power 1") the simulator logged."""
    return sum(1 for cmds in commands().values() for _, c in cmds
               if c == want)


#
# The stagger: the simulator's timestamps against the schedule.
#

def worst_window(times, interval_ms):
    """The most commands in any window of interval_ms (sliding)."""
    times = sorted(times)
    worst, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - interval_ms:
            j += 1
        worst = max(worst, i - j + 1)
    return worst


def stagger(token, selector):
    set_power(0)
    clear_commands()
    body = {"action": "on", "targets": {"selector": selector},
            "concurrency": CONC,
            "stagger": {"count": STAGGER, "interval_s": 1, "label": "rack",
                        "label_count": STAGGER_RACK}}
    res = run_job(token, body)
    cmds = commands()
    racks = {}
    for p, cs in cmds.items():
        racks.setdefault(p // PER_RACK, []).extend(
            ms for ms, c in cs if c == "power 1")
    every = sorted(ms for ms_list in racks.values() for ms in ms_list)
    overall = worst_window(every, 1000)
    per_rack = max(worst_window(v, 1000) for v in racks.values())
    asked = min(STAGGER, STAGGER_RACK * len(racks))
    # The schedule asked for n starts in k = n / asked intervals (the
    # starts of one bunched at its beginning or, with the scheduler's
    # jitter, spread over it): the rate achieved is the starts that came
    # within those k intervals of the first, per interval. Measuring from
    # the first start to the last instead would count jitter as delay.
    k = math.ceil(len(every) / asked) if every else 1
    rate = sum(1 for t in every if t < every[0] + k * 1000) / k \
        if every else 0
    span = (every[-1] - every[0]) / 1000 if every else 0
    return {"res": res, "n": len(every), "overall": overall,
            "per_rack": per_rack, "rate": rate, "asked": asked,
            "span": span, "k": k,
            "racks": len(racks)}


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def setup(procs):
    """A fresh stack, the fleet started into procs and imported: answers
    (token, selector, ipmipower config file, host list)."""
    stack("down")
    pg = RUN / "pg"
    if pg.is_symlink():
        shutil.rmtree(os.path.realpath(pg), ignore_errors=True)
    shutil.rmtree(RUN, ignore_errors=True)
    (RUN / "logs").mkdir(parents=True)
    up = stack("up")
    if up.returncode != 0:
        sys.exit(f"jobs bench: the stack did not start: {up.stderr}")
    t0 = time.time()
    # Server k is on process k % P: consecutive servers (the order jobs
    # and ipmipower take them in) are on different processes, as they
    # would be on machines of their own.
    n = nprocs()
    addrs = [f"127.77.{k % n}.{k // n + 1}" for k in range(BMCS)]
    for p in range(n):
        procs.append(start_sim(p, addrs[p::n]))
    SIM.wait_up([{"kind": "normal", "host": a, "port": PORT, "pid":
                  procs[k % n].pid, "name": a, "dir": str(RUN)}
                 for k, a in enumerate(addrs)], timeout=120)
    print(f"{len(procs)} ipmi_sim processes serving {BMCS} BMCs "
          f"({CHANNELS} LAN channels each, {len(procs) // PER_RACK} "
          f"racks): up in {time.time() - t0:.1f} s", flush=True)

    password = (RUN / "admin-password").read_text().strip()
    _, tok = api("POST", "/api/auth/login",
                 body={"username": "admin", "password": password})
    token = tok["access_token"]
    rows = [{"name": f"jb-{k:04d}", "bmc_address": f"{a}:{PORT}",
             "workarounds": ["opensesspriv"], "monitoring": False,
             "labels": {"bench": "jobs",
                        "rack": f"r{k % n // PER_RACK}"},
             "credentials": {"username": "admin", "password": "secret"}}
            for k, a in enumerate(addrs)]
    st, res = api("POST", "/api/servers/import", token, rows)
    if st != 200 or res["created"] != BMCS:
        sys.exit(f"jobs bench: import answered {st}: {str(res)[:300]}")
    selector = "bench=jobs"
    deadline = time.time() + 60
    while True:  # until cluster-mgmt's read model has them all
        _, plan = api("POST", "/api/jobs", token, {
            "action": "status", "targets": {"selector": selector},
            "dry_run": True})
        if len(plan["servers"]) == BMCS:
            break
        if time.time() > deadline:
            sys.exit(f"jobs bench: cluster-mgmt knows "
                     f"{len(plan['servers'])} of {BMCS} servers")
        time.sleep(0.5)

    conf = RUN / "ipmipower.conf"  # credentials not on a command line
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("username admin\npassword secret\n"
                "workaround-flags opensesspriv\n")
    hosts = ",".join(f"{a}:{PORT}" for a in addrs)
    # A first job records every server's state (the poller has not seen
    # them) and warms the stack; then every BMC session is closed (see
    # cold_sessions), so that the cold job below opens every one and
    # nothing else is new.
    run_job(token, {"action": "status", "targets": {"selector": selector},
                    "concurrency": CONC})
    cold_sessions()
    return token, selector, conf, hosts


def poll_rounds():
    """server-mgmt's osh_poll_rounds_total (its port, loopback), or -1."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", 8102 + OFF, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return -1
    for line in text.splitlines():
        if line.startswith("osh_poll_rounds_total "):
            return int(float(line.split()[1]))
    return -1


def restart_server_mgmt(extra=None):
    """Starts server-mgmt again (with extra in its environment) and waits
    for its poller's first round, which comes a second after the start:
    a job started meanwhile would share the BMCs with a round of 500
    polls."""
    pid = int((RUN / "pids" / "server-mgmt.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.1)
    out = subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"),
                          "start", "server-mgmt"], env=dict(ENV, **(extra or {})),
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"jobs bench: server-mgmt did not start: {out.stderr}")
    deadline = time.time() + 120
    while poll_rounds() < 1 and time.time() < deadline:
        time.sleep(0.2)


def cold_sessions():
    """server-mgmt as after a restart with no BMC session open: started
    again with sessions closed after 1 s idle, its first poll round let
    pass, then 2 s for every session it opened to close."""
    restart_server_mgmt({"OSH_IPMI_IDLE_MS": "1000"})
    time.sleep(2.5)


def warm_again():
    """server-mgmt with sessions kept as shipped, its first round (which
    opens every session) passed."""
    restart_server_mgmt()


def main():
    if not shutil.which("ipmipower"):
        sys.exit("jobs bench: ipmipower (freeipmi-tools) is missing")
    procs = []
    try:
        token, selector, conf, hosts = setup(procs)
        target = {"selector": selector}
        rows_out = {}

        # Cold: the first job opens every BMC session (ipmipower opens
        # them at every run).
        cold = run_job(token, {"action": "status", "targets": target,
                               "concurrency": CONC})
        warm_again()
        flags = {"status": ["--stat"], "off": ["--off", "--wait-until-off"],
                 "on": ["--on", "--wait-until-on"]}
        before = {"status": None, "off": 1, "on": 0}
        for action in ("status", "off", "on"):
            ref, ours = [], []
            for _ in range(ROUNDS):
                if before[action] is not None:
                    set_power(before[action])
                clear_commands()
                r = ipmipower(conf, hosts, flags[action])
                if action != "status":
                    # ipmipower may send a command again when its
                    # answer is late: more than one is its own way.
                    r["logged"] = logged(
                        f"power {1 if action == 'on' else 0}")
                    r["ok"] = r["ok"] and r["logged"] >= BMCS
                ref.append(r)
                if before[action] is not None:
                    set_power(before[action])
                clear_commands()
                j = run_job(token, {"action": action, "targets": target,
                                    "concurrency": CONC})
                if action != "status":
                    j["logged"] = logged(
                        f"power {1 if action == 'on' else 0}")
                    j["ok"] = j["ok"] and j["logged"] == BMCS
                else:
                    j["ok"] = j["ok"] and all(
                        t["power_state"] in ("on", "off")
                        for t in j["tasks"])
                ours.append(j)
            rows_out[action] = (ref, ours)
            for r in ref:
                if not r["ok"]:
                    print(f"ipmipower {action}: {r['good']} of {BMCS} "
                          f"answered, {r.get('logged', '-')} commands "
                          f"logged by the simulator; its output ends:\n"
                          f"{r['out'][-400:]}")
            for j in ours:
                if not j["ok"]:
                    print(f"job {j['job']['id']} ({action}): "
                          f"{j['job']['state']}, counts "
                          f"{j['job']['counts']}, "
                          f"{j.get('logged', '-')} commands logged")
        stg = stagger(token, selector)

        print(f"\njobs across {BMCS} simulated BMCs through nginx, job "
              f"concurrency and ipmipower --fanout {CONC}; median of "
              f"{ROUNDS} rounds (status cold: one run, with no BMC "
              f"session open: the job opens every one); "
              f"server-mgmt with "
              f"OSH_IPMI_THREADS={CONC}, OSH_DB_POOL_SIZE="
              f"{ENV['OSH_DB_POOL_SIZE']}.\nCPU: ipmipower's "
              "own (getrusage of the child); ours: server-mgmt + "
              "cluster-mgmt (services) and + nginx, PostgreSQL, Redis, "
              "auth (stack), from /proc/<pid>/stat. commands: power "
              "commands the simulator logged and all ok (ipmipower/jobs; "
              "ipmipower may send a command again when an answer is late).\nThe machine is "
              "shared: figures are noisy.\n")
        hdr = (f"{'action':14} {'ipmipower s':>11} {'job s':>7} "
               f"{'wall x':>6} {'ipmipower':>9} {'services':>9} "
               f"{'x':>5} {'stack':>7} {'x':>5}  {'commands':>9}  "
               f"all ok")
        print(f"{'':14} {'wall':>11} {'wall':>7} {'':>6} "
              f"{'CPU ms/task':>29} {'':>5} {'':>7}")
        print(hdr)
        verdict, phase_lines = [], []

        def line(name, ref, ours):
            rw, rc = median_of(ref, "wall"), median_of(ref, "cpu")
            ow, osv = median_of(ours, "wall"), median_of(ours, "svc")
            ost = median_of(ours, "stack")
            ref_ok = all(r["ok"] for r in ref)
            ok = all(o["ok"] for o in ours)
            # Commands the simulator logged in the worst round
            # (ipmipower's/ours; every BMC once is the fleet's size).
            cmds = "-"
            if ref[0]["logged"] is not None:
                cmds = (f"{max(r['logged'] for r in ref)}/"
                        f"{max(o['logged'] for o in ours)}")
            print(f"{name:14} {rw:11.3f} {ow:7.3f} {ow / rw:6.2f} "
                  f"{1000 * rc / BMCS:9.3f} {1000 * osv / BMCS:9.3f} "
                  f"{osv / rc:5.2f} {1000 * ost / BMCS:7.3f} "
                  f"{ost / rc:5.2f}  {cmds:>9}  "
                  f"{'yes' if ref_ok else 'NO'}/{'yes' if ok else 'NO'}")
            verdict.append((name, ow / rw, osv / rc, ost / rc, ok, ref_ok))
            phase_lines.append(
                f"  {name:14} POST to accepted "
                f"{statistics.median(o['phases'][0] for o in ours):6.0f} ms,"
                f" accepted to achieved "
                f"{statistics.median(o['phases'][1] for o in ours):6.0f} ms")

        line("status (cold)", rows_out["status"][0][:1], [cold])  # sessions
        for action in ("status", "off", "on"):
            line(action, *rows_out[action])
        print("\nmedian task, from the job's POST:")
        print("\n".join(phase_lines))
        print(f"\ntargets: wall x <= {WALL_TARGET}, CPU x <= {CPU_TARGET}")
        for name, w, s, a, ok, ref_ok in verdict:
            print(f"  {name:14} wall {'met' if w <= WALL_TARGET else 'MISSED'}"
                  f" ({w:.2f}x), CPU services "
                  f"{'met' if s <= CPU_TARGET else 'MISSED'} ({s:.2f}x), "
                  f"CPU stack {'met' if a <= CPU_TARGET else 'MISSED'} "
                  f"({a:.2f}x){'' if ok else ', NOT ALL TASKS OK'}"
                  f"{'' if ref_ok else ', ipmipower failed on some BMCs'}")
        parts = {}
        for action in ("status", "off", "on"):
            for o in rows_out[action][1]:
                for k, v in o["parts"].items():
                    parts[k] = parts.get(k, 0) + v
        n = 3 * ROUNDS * BMCS
        print("  CPU ms/task by process (warm jobs): " + ", ".join(
            f"{k} {1000 * v / n:.3f}" for k, v in parts.items()))

        o = stg
        print(f"\nstagger: `on` of {o['n']} servers asked at most "
              f"{STAGGER}/s overall and {STAGGER_RACK}/s per rack "
              f"({o['racks']} racks), seen from the simulator's "
              f"timestamps:")
        ex_all = max(0, o["overall"] - STAGGER) / STAGGER
        ex_rack = max(0, o["per_rack"] - STAGGER_RACK) / STAGGER_RACK
        slow = max(0, 1 - o["rate"] / o["asked"])
        print(f"  worst 1 s window: {o['overall']} overall (excess "
              f"{100 * ex_all:.0f}%), {o['per_rack']} in one rack (excess "
              f"{100 * ex_rack:.0f}%)")
        print(f"  achieved {o['rate']:.1f}/s of {o['asked']}/s asked "
              f"({100 * o['rate'] / o['asked']:.0f}%: starts within the "
              f"{o['k']} s asked); first to last start {o['span']:.2f} s; "
              f"job wall "
              f"{o['res']['wall']:.2f} s; all tasks ok: "
              f"{'yes' if o['res']['ok'] and o['n'] == BMCS else 'NO'}")
        print(f"  within {100 * STAGGER_TARGET:.0f}%: "
              f"{'yes' if max(ex_all, ex_rack, slow) <= STAGGER_TARGET else 'NO'}")
        return 0
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        stack("down")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: live power status and sensor reads for a fleet of simulated
BMCs, through the OpenServerHub API and through FreeIPMI's tools."""
import concurrent.futures
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("OSH_RUN_DIR", TOP / "run"))
OFF = int(os.environ.get("OSH_PORT_OFFSET", "0"))
GW = ("127.0.0.1", 8080 + OFF)
N = int(os.environ.get("BMCS", "100"))
PORT = int(os.environ.get("BMC_PORT", "21001"))
FLEET = RUN / "bench-fleet"
SIM = str(TOP / "deploy" / "sim" / "osh-sim")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids):
    total = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except OSError:
            pass
    return total / TICK


def stack_pids():
    names = ("osh-server-mgmt", "osh-auth", "nginx", "postgres",
             "redis-server")
    out = subprocess.run(["ps", "-eo", "pid,comm"], capture_output=True,
                         text=True).stdout.split("\n")[1:]
    return [int(l.split()[0]) for l in out
            if l.strip() and any(n in l for n in names)]


def api(method, path, token=None, body=None, conn=None):
    c = conn or http.client.HTTPConnection(*GW, timeout=60)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    c.request(method, path, body=json.dumps(body) if body is not None
              else None, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None


ROUNDS = int(os.environ.get("ROUNDS", "5"))


def measure(fn, rounds=1):
    """Mean wall and CPU seconds of a round (CPU is counted in clock
    ticks, so several rounds make it exact enough)."""
    pids = stack_pids()
    c0, t0 = cpu_of(pids), time.time()
    ok = all([fn() for _ in range(rounds)])
    return (time.time() - t0) / rounds, (cpu_of(pids) - c0) / rounds, ok


def timed_cmd(cmd):
    """Wall and CPU seconds of a shell command and all its children."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "sh", "-c",
                          cmd], capture_output=True, text=True)
    wall, user, sys_ = out.stderr.strip().split("\n")[-1].split()
    return float(wall), float(user) + float(sys_), out.stdout


def main():
    pw = (RUN / "admin-password").read_text().strip()
    _, t = api("POST", "/api/auth/login", body={"username": "admin",
                                                 "password": pw})
    token = t["access_token"]
    print(f"starting {N} simulated BMCs ...", flush=True)
    subprocess.run(["python3", SIM, "up", str(FLEET), "--count", str(N),
                    "--port", str(PORT)], check=True, stdout=subprocess.DEVNULL)
    rows = [{"name": f"bench-{i}", "bmc_address": f"127.0.0.1:{PORT + i}",
             "workarounds": ["opensesspriv"],
             "credentials": {"username": "admin", "password": "secret"}}
            for i in range(N)]
    st, res = api("POST", "/api/servers/import", token, rows)
    ids = [r["id"] for r in res["rows"] if r["status"] == "created"]
    if len(ids) < N:  # a previous run left them
        _, lst = api("GET", "/api/servers?name=bench-&limit=1000", token)
        ids = [s["id"] for s in lst["items"]]
    hosts = [f"127.0.0.1:{PORT + i}" for i in range(N)]
    creds = "-u admin -p secret -D LAN_2_0 -W opensesspriv"

    pool = concurrent.futures.ThreadPoolExecutor(N)

    def fleet(path):
        def one(sid):
            st, _ = api("GET", path.format(sid), token)
            return st == 200
        return lambda: all(pool.map(one, ids))

    rows_out = []
    w, c, ok = measure(fleet("/api/servers/{}/power"))
    rows_out.append(("API power status, first (opens sessions)", w, c, ok))
    w, c, ok = measure(fleet("/api/servers/{}/power"), ROUNDS)
    rows_out.append(("API power status, sessions open", w, c, ok))
    cmd = " ".join(f"ipmipower -h {h} {creds} --stat &" for h in hosts) + \
        " wait"
    w, c, out = timed_cmd(cmd)
    rows_out.append(("ipmipower, one process per server", w, c,
                     out.count(": on") + out.count(": off") == N))
    fan = f"ipmipower -h {','.join(hosts)} {creds} --stat --fanout={N}"
    w, c, out = timed_cmd(" ; ".join([fan] * ROUNDS))
    rows_out.append(("ipmipower, its own fan-out", w / ROUNDS, c / ROUNDS,
                     out.count(": on") + out.count(": off") == N * ROUNDS))
    w, c, ok = measure(fleet("/api/servers/{}/sensors"))
    w, c, ok = measure(fleet("/api/servers/{}/sensors"), ROUNDS)
    rows_out.append(("API sensors (SDR cached)", w, c, ok))
    # ipmi-sensors keeps its own SDR cache on disk: warm it first.
    timed_cmd(" ".join(f"ipmi-sensors -h {h} {creds} --quiet-cache "
                       f">/dev/null &" for h in hosts) + " wait")
    w, c, out = timed_cmd(" ".join(f"ipmi-sensors -h {h} {creds} "
                                   f"--quiet-cache >/dev/null &"
                                   for h in hosts) + " wait")
    rows_out.append(("ipmi-sensors per server (SDR cached)", w, c, True))

    print(f"{'fleet of ' + str(N) + ' BMCs':44} {'wall s':>8} {'CPU s':>8} "
          f"{'CPU ms/server':>14} ok")
    for name, w, c, ok in rows_out:
        print(f"{name:44} {w:8.3f} {c:8.3f} {1000 * c / N:14.2f} "
              f"{'yes' if ok else 'NO'}")
    api_status, cli_status = rows_out[1], rows_out[2]
    fan = rows_out[3]
    api_sens, cli_sens = rows_out[4], rows_out[5]
    print(f"power status: API CPU/server is {api_status[2] / cli_status[2]:.3f}"
          f" of ipmipower per process ({cli_status[2] / api_status[2]:.0f}x"
          f" less) and {api_status[2] / fan[2]:.3f} of ipmipower fan-out; "
          f"API wall {api_status[1]:.3f} s for {N} BMCs (target < 1 s)")
    print(f"sensors: API CPU/server is {api_sens[2] / cli_sens[2]:.3f} of "
          f"ipmi-sensors ({cli_sens[2] / api_sens[2]:.0f}x less); wall "
          f"{api_sens[1]:.3f} s vs {cli_sens[1]:.3f} s")
    pool.shutdown()
    for sid in ids:
        api("DELETE", f"/api/servers/{sid}", token)
    subprocess.run(["python3", SIM, "down", str(FLEET)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

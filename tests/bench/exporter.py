#!/usr/bin/env python3
"""Benchmark: osh-ipmi-exporter vs the community ipmi_exporter."""
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
BUILD = os.environ.get("BUILD", "build")
SIM = str(TOP / "deploy" / "sim" / "osh-sim")
N = int(os.environ.get("BMCS", "50"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
FLEET = int(os.environ.get("FLEET", "500"))
SUSTAIN_S = int(os.environ.get("SUSTAIN_S", "60"))
INTERVAL_S = 30
PORT = 24001
OURS, REF = 29391, 29390
TICK = os.sysconf("SC_CLK_TCK")
COLLECTORS = "[ipmi, bmc, chassis, dcmi, sel]"


def proc_cpu(pid):
    """CPU seconds of a process, its threads and its waited-for children."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15]) / TICK


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(url, timeout=60):
    t0 = time.time()
    with urllib.request.urlopen(urllib.request.Request(
            url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "20"}),
            timeout=timeout) as r:
        body = r.read()
    return time.time() - t0, body


def wait_http(url):
    for _ in range(100):
        try:
            get(url, 2)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def start_exporters(cfg, log):
    env = dict(os.environ, OSH_LOG_LEVEL=os.environ.get("OSH_LOG_LEVEL", "warn"), OSH_REDIS_HOST="",
               OSH_SERVER_MGMT_URL="", OSH_AUTH_URL="",
               OSH_SERVICE_SECRET_FILE="")
    ours = subprocess.Popen([str(TOP / BUILD / "osh-ipmi-exporter"),
                             f"--config.file={cfg}",
                             f"--web.listen-address=127.0.0.1:{OURS}"],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"))
    ref = subprocess.Popen(["prometheus-ipmi-exporter", f"--config.file={cfg}",
                            f"--web.listen-address=127.0.0.1:{REF}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{OURS}/metrics")
    wait_http(f"http://127.0.0.1:{REF}/metrics")
    return ours, ref


def rounds(port, pid, n):
    """n rounds of scraping every BMC concurrently, as Prometheus would."""
    urls = [f"http://127.0.0.1:{port}/ipmi?target=127.0.0.1:{PORT + i}"
            for i in range(n)]
    pool = concurrent.futures.ThreadPoolExecutor(n)
    list(pool.map(get, urls))  # warm: sessions, SDR caches
    c0 = proc_cpu(pid)
    walls = []
    for _ in range(ROUNDS):
        walls += [w for w, _ in pool.map(get, urls)]
    cpu = proc_cpu(pid) - c0
    pool.shutdown()
    walls.sort()
    return {"p50": statistics.median(walls),
            "p99": walls[min(len(walls) - 1, int(len(walls) * 0.99))],
            "cpu": cpu / (ROUNDS * n), "rss": peak_rss_mb(pid)}


def sustain(pid, n):
    """Every BMC once per interval, spread over it like Prometheus does."""
    urls = [f"http://127.0.0.1:{OURS}/ipmi?target=127.0.0.1:{PORT + i}"
            for i in range(n)]
    pool = concurrent.futures.ThreadPoolExecutor(64)
    step = INTERVAL_S / n
    futures = []
    list(pool.map(get, urls))  # first contact: sessions and SDRs
    c0, t0 = proc_cpu(pid), time.time()
    k = 0
    while time.time() - t0 < SUSTAIN_S:
        due = t0 + k * step
        if time.time() < due:
            time.sleep(due - time.time())
        futures.append(pool.submit(get, urls[k % n]))
        k += 1
    walls = sorted(f.result()[0] for f in futures)
    wall = time.time() - t0
    cpu = proc_cpu(pid) - c0
    pool.shutdown()
    bad = sum(1 for f in futures if b'ipmi_up{collector="ipmi"} 1'
              not in f.result()[1])
    return cpu / wall, walls, k, bad


def main():
    tmp = Path(tempfile.mkdtemp(prefix="osh-bench-"))
    fleet = tmp / "fleet"
    cfg = tmp / "ipmi.yml"
    cfg.write_text("modules:\n  default:\n    user: admin\n    pass: secret\n"
                   f"    driver: LAN_2_0\n    privilege: admin\n"
                   f"    collectors: {COLLECTORS}\n"
                   "    workaround_flags: [opensesspriv]\n")
    print(f"starting {N} simulated BMCs ...", flush=True)
    subprocess.run(["python3", SIM, "up", str(fleet), "--count", str(N),
                    "--port", str(PORT)], check=True, stdout=subprocess.DEVNULL)
    log = tmp / "osh-ipmi-exporter.log"
    ours, ref = start_exporters(cfg, log)
    try:
        o = rounds(OURS, ours.pid, N)
        r = rounds(REF, ref.pid, N)
        print(f"{N} BMCs x {ROUNDS} rounds, collectors {COLLECTORS}")
        print(f"{'exporter':28} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'CPU ms/scrape':>14} {'peak RSS MB':>12}")
        for name, m in (("prometheus-ipmi-exporter", r),
                        ("osh-ipmi-exporter", o)):
            print(f"{name:28} {m['p50'] * 1000:8.1f} {m['p99'] * 1000:8.1f} "
                  f"{m['cpu'] * 1000:14.2f} {m['rss']:12.1f}")
        print(f"ratios: CPU per scrape {r['cpu'] / o['cpu']:.1f}x less "
              f"(target >= 20x), p50 {r['p50'] / o['p50']:.1f}x lower "
              f"(target >= 5x), p99 {r['p99'] / o['p99']:.1f}x lower")
        ref.terminate()
        if FLEET > N:
            print(f"starting {FLEET - N} more simulated BMCs ...", flush=True)
            subprocess.run(["python3", SIM, "up", str(fleet), "--count",
                            str(FLEET), "--port", str(PORT)], check=True,
                           stdout=subprocess.DEVNULL)
        share, walls, k, bad = sustain(ours.pid, FLEET)
        print(f"sustained: {FLEET} BMCs every {INTERVAL_S} s for "
              f"{SUSTAIN_S} s ({k} scrapes, {bad} incomplete): exporter CPU "
              f"{share * 100:.1f}% of one core (target < 25%), scrape p50 "
              f"{statistics.median(walls) * 1000:.1f} ms, p99 "
              f"{walls[int(len(walls) * 0.99)] * 1000:.1f} ms, peak RSS "
              f"{peak_rss_mb(ours.pid):.1f} MB")
        if bad:
            print(f"incomplete scrapes are explained in {log}")
        per_core = 0.25 / (share / FLEET) if share > 0 else float("inf")
        print(f"largest fleet at {INTERVAL_S} s within a quarter core, by "
              f"this rate: about {per_core:.0f} BMCs")
    finally:
        ours.terminate()
        ref.terminate()
        subprocess.run(["python3", SIM, "down", str(fleet)])
    return 0


if __name__ == "__main__":
    sys.exit(main())

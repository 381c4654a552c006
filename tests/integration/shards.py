#!/usr/bin/python3
"""Runs the integration tests on two test stacks side by side, each with
its own PostgreSQL, Redis, nginx, services and simulated BMCs (run.sh at
port offsets 10000 and 1000: their port ranges do not meet each other's
nor make up's). Most of the suite waits on timers, deadlines and
simulated BMCs rather than on the two cores, so two stacks take little
more than half the time of one.

The test files are dealt to the stacks by their weight (seconds, as
measured on a quiet machine: make check prints the slowest tests), the
heaviest first, each to the stack with less to do. A file not listed
weighs DEFAULT. Each stack's output is printed whole when it ends, the
first to end first; the exit status is the first failing stack's.

    tests/integration/shards.py [pytest arguments]
OSH_TEST_SHARDS=1 runs everything on one stack (run.sh)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
HERE = TOP / "tests" / "integration"
OFFSETS = (10000, 1000)
DEFAULT = 5
WEIGHTS = {
    "test_faults.py": 90, "test_ui.py": 90, "test_jobs_e2e.py": 55,
    "test_alerts_e2e.py": 50, "test_jobs.py": 45, "test_poller_faults.py": 40,
    "test_poller_share.py": 30, "test_exporter.py": 30,
    "test_exporter_v110.py": 22, "test_metrics_api.py": 21,
    "test_power_stream.py": 25, "test_clusters.py": 20, "test_servers.py": 20,
    "test_zz_resilience.py": 17, "test_client_gone.py": 15,
    "test_alert_ops.py": 25, "test_upgrade.py": 15,
    "test_discovery_import.py": 13, "test_exporter_security.py": 10,
    "test_hardware.py": 8, "test_gateway.py": 8, "test_key_rotation.py": 6,
    "test_compose_native.py": 6,
}


# Files that load the whole machine (a hundred simulated BMCs or more,
# thousands of client connections, a browser) and files whose figures
# are timings at the simulated BMCs. On two cores a heavy file on one
# stack makes the other's timings wrong, so the stacks share the
# machine through a lock (OSH_TEST_MACHINE_LOCK, taken by conftest.py
# for each such file): a heavy file runs alone among them, timing files
# run beside each other but not beside a heavy one. The dealer puts one
# stack's heavy files first and the other's last, so that they seldom
# wait for each other.
HEAVY = {"test_faults.py", "test_ui.py", "test_jobs_e2e.py",
         "test_poller_faults.py"}
TIMING = {"test_power_stream.py", "test_jobs.py", "test_poller_share.py"}


def deal(files, n):
    shards = [[] for _ in range(n)]
    load = [0] * n
    heavy = [0] * n
    for f in sorted(files, key=lambda f: (f.name not in HEAVY,
                                          -WEIGHTS.get(f.name, DEFAULT),
                                          f.name)):
        if f.name in HEAVY:  # heavy files spread by their own weight
            i = heavy.index(min(heavy))
            heavy[i] += WEIGHTS.get(f.name, DEFAULT)
        else:
            i = load.index(min(load))
        shards[i].append(f)
        load[i] += WEIGHTS.get(f.name, DEFAULT)
    # Each stack runs its files in name order (test_zz_* last), the
    # heavy ones, then the timing ones, first on the first stack; the
    # timing ones, then the heavy ones, last (before test_zz_*) on the
    # others.
    out = []
    for i, part in enumerate(shards):
        zz = sorted(f for f in part if f.name.startswith("test_zz_"))
        hv = sorted(f for f in part if f.name in HEAVY)
        tm = sorted(f for f in part if f.name in TIMING)
        rest = sorted(f for f in part if f not in zz + hv + tm)
        out.append(hv + tm + rest + zz if i == 0 else rest + tm + hv + zz)
    return out, load


def progress(log):
    """Tests done so far in a stack's log (pytest -q's dots), failed
    among them."""
    done = failed = 0
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0, 0
    for line in text.splitlines():
        if line.startswith("=") and done:
            break
        head = line.split(" [")[0].rstrip()
        if head and set(head) <= set(".FEsxX"):
            done += len(head)
            failed += head.count("F") + head.count("E")
    return done, failed


def main():
    args = sys.argv[1:]
    n = int(os.environ.get("OSH_TEST_SHARDS", len(OFFSETS)))
    run = ["sh", str(HERE / "run.sh")]
    if n <= 1:
        return subprocess.call(run + args)
    n = min(n, len(OFFSETS))
    files = sorted(HERE.glob("test_*.py"))
    shards, load = deal(files, n)
    build = os.environ.get("BUILD", "build")
    logdir = (TOP / build) if not build.startswith("/") else Path(build)
    logdir.mkdir(parents=True, exist_ok=True)
    procs = []
    for i, (part, off) in enumerate(zip(shards, OFFSETS)):
        log = logdir / f"test-integration-{i + 1}.log"
        print(f"stack {i + 1} (port offset {off}): {len(part)} files, "
              f"about {load[i]} s of tests", flush=True)
        env = dict(os.environ, OSH_PORT_OFFSET=str(off),
                   TESTS=" ".join(str(f) for f in part),
                   OSH_TEST_MACHINE_LOCK=str(logdir /
                                             "test-integration.lock"),
                   OSH_TEST_HEAVY=",".join(sorted(HEAVY)),
                   OSH_TEST_TIMING=",".join(sorted(TIMING)))
        with open(log, "wb") as out:
            p = subprocess.Popen(run + args,
                                 env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        procs.append((i + 1, p, log, time.time()))
    # Stopped, the stacks stop too (run.sh tears each down).
    def stop(sig, _frame):
        for _, p, _, _ in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p, _, _ in procs:
            p.wait()
        sys.exit(128 + sig)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rc = 0
    pending = list(procs)
    last = time.time()
    while pending:
        if time.time() - last >= 60:
            last = time.time()
            print("  " + "; ".join(
                f"stack {k}: {d} done" + (f", {f} failed" if f else "")
                for k, _, log, _ in pending
                for d, f in [progress(log)]), flush=True)
        for item in list(pending):
            k, p, log, t0 = item
            if p.poll() is None:
                continue
            pending.remove(item)
            print(f"== stack {k}: exit {p.returncode} after "
                  f"{time.time() - t0:.0f} s ({log})", flush=True)
            sys.stdout.write(log.read_text(errors="replace"))
            sys.stdout.flush()
            if p.returncode != 0 and rc == 0:
                rc = p.returncode
        time.sleep(0.5)
    return rc


if __name__ == "__main__":
    sys.exit(main())

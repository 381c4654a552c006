"""wrk through the gateway, shared by the Python benchmarks. The bearer
token goes to wrk through its environment and a Lua script
(benchwrk.lua), never on its command line, where any user of the machine
could read it in the process list."""
import os
import re
import subprocess
from pathlib import Path

LUA = Path(__file__).with_name("benchwrk.lua")


def _ms(v):
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[:-len(unit)]) * f
    return float(v)


def wrk(base, url, token, threads, conns, secs, accept_encoding=""):
    """Runs wrk on base + url with the token (and an Accept-Encoding
    header when one is given); answers (requests/s, p50 ms, p99 ms,
    non-2xx count, wrk's socket errors line or "")."""
    env = dict(os.environ, OSH_BENCH_TOKEN=token or "",
               OSH_BENCH_ACCEPT_ENCODING=accept_encoding)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--latency",
         "-s", str(LUA), f"{base}{url}"],
        capture_output=True, text=True, timeout=secs + 60, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return (rps, p50, p99, int(bad.group(1)) if bad else 0,
            errs.group(1) if errs else "")

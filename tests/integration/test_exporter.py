"""osh-ipmi-exporter: a drop-in for the community exporter (the same series
from the same BMCs), Prometheus service discovery through server-mgmt,
deadlines, credentials from server-mgmt, configuration reload. The stack's
exporter wants basic authentication (its web configuration); Prometheus
and these tests log in as "prometheus"."""
import math
import os
import re
import signal
import subprocess
import time
import concurrent.futures

import pytest
import requests

from conftest import (FLEET_PORT, PORTS, RUN, SILENT_PORT, OFF, TOP, logs,
                      server_body, wait_for)

EXPORTER = f"http://127.0.0.1:{PORTS['ipmi-exporter']}"
PROM = f"http://127.0.0.1:{9090 + OFF}"
REF_PORT = 9390 + OFF


def exporter_auth():
    """The stack exporter's basic authentication."""
    pw = (RUN / "secrets" / "exporter-password").read_text().strip()
    return ("prometheus", pw)
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def series(text):
    """Parses Prometheus text into {(name, frozenset(labels)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def scrape(target, module="default", base=EXPORTER, timeout=None,
           auth="stack"):
    h = {"X-Prometheus-Scrape-Timeout-Seconds": str(timeout)} if timeout \
        else {}
    if auth == "stack":
        auth = exporter_auth() if base == EXPORTER else None
    r = requests.get(f"{base}/ipmi", params={"target": target,
                                            "module": module},
                     headers=h, timeout=30, auth=auth)
    return r


@pytest.fixture(scope="module")
def reference(fleet, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("ref") / "ipmi.yml"
    cfg.write_text("modules:\n  default:\n    user: admin\n    pass: secret\n"
                   "    driver: LAN_2_0\n    privilege: admin\n"
                   "    collectors: [ipmi, bmc, chassis, dcmi, sel]\n"
                   "    workaround_flags: [opensesspriv]\n")
    p = subprocess.Popen(["prometheus-ipmi-exporter",
                          f"--config.file={cfg}",
                          f"--web.listen-address=127.0.0.1:{REF_PORT}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def answers():
        try:
            return requests.get(f"http://127.0.0.1:{REF_PORT}/",
                                timeout=2).ok
        except requests.RequestException:
            return False
    wait_for(answers, what="reference exporter")
    yield f"http://127.0.0.1:{REF_PORT}"
    p.terminate()
    p.wait()


# What ipmi_exporter added after Debian's 1.6.1 (1.7: the chassis fault
# states; 1.10: bmc_url on ipmi_bmc_info), and ours (the thresholds):
# checked here for their values, then left out of the comparison.
NEWER = {"ipmi_chassis_drive_fault_state": 1,
         "ipmi_chassis_cooling_fault_state": 1}


def without_newer(ours):
    out = {}
    for (name, labels), v in ours.items():
        if name in NEWER or "_threshold" in name:
            continue
        if name == "ipmi_bmc_info":
            assert ("bmc_url", "N/A") in labels  # no Get System Info
            labels = frozenset(x for x in labels if x[0] != "bmc_url")
        out[(name, labels)] = v
    for name, v in NEWER.items():
        assert ours[(name, frozenset())] == v, name
    return out


def test_same_series_as_the_reference(reference, fleet):
    for port in (FLEET_PORT, FLEET_PORT + 1, FLEET_PORT + 3):
        target = f"127.0.0.1:{port}"
        ref = series(scrape(target, base=reference).text)
        ours = without_newer(series(scrape(target).text))
        skip = {"ipmi_scrape_duration_seconds", "ipmi_fru_info"}
        ref = {k: v for k, v in ref.items() if k[0] not in skip}
        ours = {k: v for k, v in ours.items() if k[0] not in skip and
                k != ("ipmi_up", frozenset({("collector", "fru")}))}
        assert set(ours) == set(ref), (
            f"only ours: {sorted(set(ours) - set(ref))}\n"
            f"only the reference's: {sorted(set(ref) - set(ours))}")
        for k, v in ref.items():
            if math.isnan(v):
                assert math.isnan(ours[k]), k
            else:
                assert ours[k] == pytest.approx(v, abs=1e-6), k
        assert ref[("ipmi_up", frozenset({("collector", "ipmi")}))] == 1


def test_fru_collector(fleet):
    s = series(scrape(f"127.0.0.1:{FLEET_PORT + 1}").text)
    info = [k for k in s if k[0] == "ipmi_fru_info"]
    assert info
    labels = dict(info[0][1])
    want = fleet[f"127.0.0.1:{FLEET_PORT + 1}"]
    assert labels["manufacturer"] == want["manufacturer"]
    assert labels["serial"] == want["serial"]


def test_bad_requests():
    r = requests.get(f"{EXPORTER}/ipmi", timeout=5, auth=exporter_auth())
    assert r.status_code == 400 and "target" in r.text
    r = scrape("127.0.0.1:1", module="nope")
    assert r.status_code == 400 and "module" in r.text.lower()


def test_silent_bmc_answers_within_the_deadline(fleet):
    def timed(target):
        r = scrape(target, timeout=2)
        return r, time.time()

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        t0 = time.time()
        slow = ex.submit(timed, f"127.0.0.1:{SILENT_PORT}")
        time.sleep(0.2)
        ok, ok_at = timed(f"127.0.0.1:{FLEET_PORT + 2}")
        r, slow_at = slow.result()
        took = slow_at - t0
    assert r.status_code == 200
    s = series(r.text)
    assert all(v == 0 for k, v in s.items() if k[0] == "ipmi_up")
    assert took < 2.0
    assert series(ok.text)[("ipmi_up", frozenset({("collector", "ipmi")}))] \
        == 1
    # The healthy BMC's scrape, started after the silent one's, is not
    # held behind it: answered first (by how much depends on the machine).
    assert ok_at < slow_at, (ok_at - t0, took)
    # The operator reads which BMC and collectors failed, and why.
    assert re.search(rf'level=warn .*msg="scrape incomplete" '
                     rf'target="127.0.0.1:{SILENT_PORT}" module="default" '
                     rf'collectors=ipmi,\S* error=(deadline|bmc_timeout)',
                     logs("ipmi-exporter"))


def test_prometheus_follows_service_discovery(admin, fleet):
    r = admin.post("/api/servers", server_body(FLEET_PORT + 4,
                                               name="prom-sd-1",
                                               cluster="racks"))
    sid = r.json()["id"]

    def seen():
        q = requests.get(f"{PROM}/api/v1/query", params={
            "query": 'ipmi_up{collector="ipmi",server_name="prom-sd-1"}'},
            timeout=5).json()["data"]["result"]
        return q and q[0]["value"][1] == "1" and q[0]["metric"]
    labels = wait_for(seen, timeout=30, interval=0.5,
                      what="Prometheus scraping the new server")
    assert labels["server_id"] == str(sid) and labels["cluster"] == "racks"
    assert labels["instance"] == f"127.0.0.1:{FLEET_PORT + 4}"
    admin.delete(f"/api/servers/{sid}")

    def gone():
        t = requests.get(f"{PROM}/api/v1/targets", timeout=5).json()
        return not [x for x in t["data"]["activeTargets"]
                    if x["labels"].get("server_name") == "prom-sd-1"]
    wait_for(gone, timeout=30, interval=0.5, what="target dropped")


def ipmitool_password(port, old, new):
    subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p",
                    str(port), "-U", "admin", "-P", old, "user", "set",
                    "password", "2", new], check=True, capture_output=True,
                   timeout=30)


def test_changed_password_recovers_after_update(admin, fleet):
    port = FLEET_PORT + 3
    # Not monitored: Prometheus' own scrapes would keep the session open.
    r = admin.post("/api/servers", server_body(port, name="pw-change",
                                               monitoring=False))
    sid = r.json()["id"]
    target = f"127.0.0.1:{port}"
    up = ("ipmi_up", frozenset({("collector", "ipmi")}))
    try:
        assert series(scrape(target, "osh").text)[up] == 1
        ipmitool_password(port, "secret", "Changed-77")
        # Once the old session idles out (2 s in tests), the old password
        # no longer opens one.
        wait_for(lambda: series(scrape(target, "osh").text)[up] == 0,
                 timeout=40, interval=4, what="scrapes failing")
        admin.put(f"/api/servers/{sid}/credentials",
                  {"username": "admin", "password": "Changed-77"})
        wait_for(lambda: series(scrape(target, "osh").text)[up] == 1,
                 timeout=15, interval=0.5, what="scrapes recovering")
    finally:
        ipmitool_password(port, "Changed-77", "secret")
        admin.delete(f"/api/servers/{sid}")


def test_module_osh_unknown_target():
    # Refused before any packet is sent (test_exporter_security.py checks
    # that nothing reaches the address).
    r = scrape("127.0.0.1:19998", module="osh")
    assert r.status_code == 403
    assert "not a server registered in server-mgmt" in r.text


def test_reload(fleet):
    cfg = RUN / "ipmi-exporter.yml"
    original = cfg.read_text()
    try:
        cfg.write_text(original + "  extra:\n    user: admin\n"
                       "    pass: secret\n    collectors: [chassis]\n"
                       "    workaround_flags: [opensesspriv]\n")
        r = requests.post(f"{EXPORTER}/-/reload", timeout=5,
                          auth=exporter_auth())
        assert r.status_code == 200, r.text
        s = series(scrape(f"127.0.0.1:{FLEET_PORT}", module="extra").text)
        assert s[("ipmi_up", frozenset({("collector", "chassis")}))] == 1
        assert not [k for k in s if k[0] == "ipmi_temperature_celsius"]
        cfg.write_text("modules:\n  broken:\n    collectors: [nope]\n")
        r = requests.post(f"{EXPORTER}/-/reload", timeout=5,
                          auth=exporter_auth())
        assert r.status_code == 500 and "nope" in r.text
        # The old configuration stays.
        assert scrape(f"127.0.0.1:{FLEET_PORT}", module="extra") \
            .status_code == 200
        # SIGHUP reloads too.
        cfg.write_text(original)
        pid = int((RUN / "pids" / "ipmi-exporter.pid").read_text())
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: scrape(f"127.0.0.1:{FLEET_PORT}",
                                module="extra").status_code == 400,
                 what="module gone after SIGHUP")
    finally:
        cfg.write_text(original)
        requests.post(f"{EXPORTER}/-/reload", timeout=5,
                      auth=exporter_auth())


def test_own_metrics():
    m = requests.get(f"{EXPORTER}/metrics", timeout=5,
                     auth=exporter_auth()).text
    for name in ("osh_ipmi_sessions_open", "osh_ipmi_session_setups_total",
                 "osh_ipmi_sdr_cache_total", "osh_ipmi_requests_total",
                 "osh_ipmi_errors_total",
                 "osh_exporter_scrape_duration_seconds_bucket"):
        assert name in m, name
    # Upstream's version collector: what this binary says it was built
    # from (--version), in the labels upstream gives.
    binary = TOP / os.environ.get("BUILD", "build") / "osh-ipmi-exporter"
    v = re.search(r"version (\S+) \(branch: (\S+), revision: (\S+)\)",
                  subprocess.run([str(binary), "--version"], check=True,
                                 capture_output=True, text=True).stdout)
    assert v and re.fullmatch(r"[0-9a-f]{40}|unknown", v[3]), v
    assert "# TYPE ipmi_exporter_build_info gauge\n" in m
    (line,) = [x for x in m.splitlines()
               if x.startswith("ipmi_exporter_build_info{")]
    assert re.fullmatch(
        rf'ipmi_exporter_build_info\{{branch="{re.escape(v[2])}",'
        r'goarch="\w+",goos="linux",goversion="[^"]+",'
        rf'revision="{v[3]}",tags="unknown",version="{re.escape(v[1])}"\}} 1',
        line), line

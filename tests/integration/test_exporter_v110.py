"""osh-ipmi-exporter against simulated BMCs, for what ipmi_exporter 1.10
has and Debian's 1.6.1 lacks (so there is no reference binary to compare
with): the sel-events collector, checked against what upstream computes
from ipmi-sel's own output; the bmc-watchdog collector, against what the
simulated BMC was set to; a 1.10 configuration and --native-ipmi loading
with their one warning line. And ours: the SDR thresholds beside each
reading, against the simulated boards' SDRs."""
import calendar
import json
import os
import re
import socket
import subprocess
import time

import pytest
import requests

from conftest import FLEET, FLEET_PORT, RUN, TOP, logs, sim, wait_for
from test_exporter import EXPORTER, exporter_auth, scrape, series

FAMILY = {"degrees_C": "ipmi_temperature_threshold_celsius",
          "RPM": "ipmi_fan_speed_threshold_rpm",
          "Volts": "ipmi_voltage_threshold_volts",
          "Amps": "ipmi_current_threshold_amperes",
          "Watts": "ipmi_power_threshold_watts"}
LABEL = {"lnr": "lower_non_recoverable", "lc": "lower_critical",
         "lnc": "lower_non_critical", "unc": "upper_non_critical",
         "uc": "upper_critical", "unr": "upper_non_recoverable"}


def test_thresholds_beside_readings(fleet):
    target = f"127.0.0.1:{FLEET_PORT}"
    bmc = fleet[target]
    got = {k: v for k, v in series(scrape(target).text).items()
           if "_threshold" in k[0]}
    want = {}
    for s in bmc["sensors"]:
        for kind, t in s["thresholds"].items():
            if t is None:
                continue  # not readable in the SDR: no series
            # As the SDR holds it: a raw byte, converted back.
            raw = max(0, min(255, round(t / 10 ** s["r_exp"] / s["m"])))
            key = (FAMILY[s["unit"]],
                   frozenset({("id", str(s["number"])), ("name", s["name"]),
                              ("threshold", LABEL[kind])}))
            want[key] = raw * s["m"] * 10 ** s["r_exp"]
    assert set(got) == set(want), (
        f"only ours: {sorted(set(got) - set(want))}\n"
        f"only the SDR's: {sorted(set(want) - set(got))}")
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-6), k


# Upstream's line pattern for ipmi-sel's output, and its arguments.
SEL_LINE = re.compile(r"^(?P<id>[0-9]+),\s*(?P<date>[^,]*),(?P<time>[^,]*),"
                      r"(?P<name>[^,]*),(?P<type>[^,]*),(?P<state>[^,]*),"
                      r"(?P<event>[^,]*)$")
RULES = [("memory", r"Correctable memory error.*", r"Correctable memory error.*"),
         ("hot", r"Upper Critical - going high ; Sensor Reading = \d+",
          r"Upper Critical - going high ; Sensor Reading = \d+"),
         ("warm", r"(?i)UPPER NON-CRITICAL", r"(?i)UPPER NON-CRITICAL"),
         ("hot", r"Threshold = 9\d\.00 C", r"Threshold = 9\d\.00 C"),
         ("never", r"no such event", r"no such event"),
         # RE2's Unicode letter class (Python's re has no \pL).
         ("letters", r"^\pL+ memory error", r"^[^\W\d_]+ memory error"),
         # FreeIPMI's text for it has a comma: upstream drops the line.
         ("psu", r"out-of-range", r"out-of-range")]


def upstream_sel_events(port, cache):
    """What ipmi_exporter's sel-events collector answers, computed as it
    computes it from ipmi-sel's output (times read as UTC), and the lines
    its pattern drops (a comma in a column)."""
    out = subprocess.run(
        ["ipmi-sel", "-h", f"127.0.0.1:{port}", "-u", "admin", "-p",
         "secret", "-D", "LAN_2_0", "-W", "opensesspriv",
         "--sdr-cache-directory", str(cache), "--quiet-cache",
         "--comma-separated-output", "--no-header-output",
         "--sdr-cache-recreate", "--output-event-state",
         "--interpret-oem-data", "--entity-sensor-names"],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, TZ="UTC"), check=True).stdout
    by_state, count, latest, dropped = {}, {}, {}, []
    for name, _ours, _re in RULES:
        count[name], latest[name] = 0, 0
    for line in out.splitlines():
        m = SEL_LINE.match(line)
        if not m:
            dropped.append(line)
            continue
        for name, _ours, rx in RULES:
            if re.search(rx, m["event"]):
                try:
                    ts = calendar.timegm(time.strptime(
                        f"{m['date']} {m['time']}", "%b-%d-%Y %H:%M:%S"))
                except ValueError:
                    ts = 0  # PostInit
                latest[name] = max(latest[name], ts)
                count[name] += 1
        by_state[m["state"]] = by_state.get(m["state"], 0) + 1
    return by_state, count, latest, dropped


def ipmitool(port, *args):
    subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p",
                    str(port), "-U", "admin", "-P", "secret", *args],
                   check=True, capture_output=True, timeout=30)


@pytest.fixture
def v110_module():
    """A module "v110" as a 1.10 file writes it, in the stack exporter's
    configuration for the test."""
    cfg = RUN / "ipmi-exporter.yml"
    original = cfg.read_text()
    rules = "".join(f"      - name: {n}\n        regex: '{r}'\n"
                    for n, r, _ in RULES)
    cfg.write_text(
        original + "  v110:\n    user: admin\n    pass: secret\n"
        "    workaround_flags: [opensesspriv]\n"
        "    collectors: [bmc, bmc-watchdog, chassis, sel-events]\n"
        f"    sel_events:\n{rules}"
        "    collector_cmd:\n      sel-events: /usr/bin/sudo\n"
        "    default_args:\n      sel-events: [--quiet-cache]\n"
        "    custom_args:\n      sel-events: [/usr/sbin/ipmi-sel]\n")
    r = requests.post(f"{EXPORTER}/-/reload", timeout=5, auth=exporter_auth())
    assert r.status_code == 200, r.text
    yield
    cfg.write_text(original)
    requests.post(f"{EXPORTER}/-/reload", timeout=5, auth=exporter_auth())


def test_v110_collectors(fleet, v110_module, tmp_path):
    # A BMC of its own: its log and watchdog change here.
    bmc = json.loads(
        sim("add", str(FLEET), "--kind", "bigsel", "--sel", "6"))
    port = bmc["port"]
    sim("event", str(FLEET), bmc["name"], "--kind", "memory", "--count",
        "2", "--clock")
    sim("event", str(FLEET), bmc["name"], "--count", "1")
    # PSU1 Status, offset 5: "Power Supply input out-of-range, but
    # present", a comma in ipmi-sel's Event column.
    (psu,) = [d["number"] for d in json.loads(
        sim("show", str(FLEET), bmc["name"]))["discrete"]
        if d["name"] == "PSU1 Status"]
    events = tmp_path / "psu-events"
    events.write_text(f"0x04 0x08 {psu:#04x} 0x6f 0x05 0xff 0xff\n")
    ipmitool(port, "sel", "add", str(events))
    # SMS/OS, no action (ipmi_sim refuses the others without a host),
    # pre-timeout 10 s, 300.0 s; not started.
    ipmitool(port, "raw", "0x06", "0x24", "0x04", "0x00", "0x0a", "0x00",
             "0xb8", "0x0b")
    cache = tmp_path / "sdr-cache"
    cache.mkdir(mode=0o700)
    by_state, count, latest, dropped = upstream_sel_events(port, cache)
    assert any("out-of-range, but present" in x for x in dropped), dropped
    assert count["memory"] == 2 and count["hot"] >= 2 and latest["memory"]
    assert count["letters"] == 2 and count["psu"] == 0

    s = series(scrape(f"127.0.0.1:{port}", module="v110").text)
    for c in ("bmc", "bmc-watchdog", "chassis", "sel-events"):
        assert s[("ipmi_up", frozenset({("collector", c)}))] == 1, c
    assert {dict(k[1])["state"]: v for k, v in s.items()
            if k[0] == "ipmi_sel_events_count_by_state"} == by_state
    assert {dict(k[1])["name"]: v for k, v in s.items()
            if k[0] == "ipmi_sel_events_count_by_name"} == count
    assert {dict(k[1])["name"]: v for k, v in s.items()
            if k[0] == "ipmi_sel_events_latest_timestamp"} == latest

    def one(metric, **labels):
        return s[(metric, frozenset(labels.items()))]
    assert one("ipmi_bmc_watchdog_timer_state") == 0
    assert one("ipmi_bmc_watchdog_timer_use_state", name="SMS/OS") == 1
    assert one("ipmi_bmc_watchdog_timer_use_state", name="OS LOAD") == 0
    assert one("ipmi_bmc_watchdog_logging_state") == 1
    assert one("ipmi_bmc_watchdog_timeout_action_state", action="None") == 1
    assert one("ipmi_bmc_watchdog_pretimeout_interrupt_state",
               interrupt="None") == 1
    assert one("ipmi_bmc_watchdog_pretimeout_interval_seconds") == 10
    assert one("ipmi_bmc_watchdog_initial_countdown_seconds") == 300
    assert one("ipmi_chassis_drive_fault_state") == 1
    assert [k for k in s if k[0] == "ipmi_bmc_info"][0][1] >= {
        ("bmc_url", "N/A")}
    # The FreeIPMI command keys: one line says they are ignored.
    assert re.search(r'msg="module keys ignored: .*" '
                     r'keys=collector_cmd,default_args,custom_args '
                     r'modules="v110"', logs("ipmi-exporter"))


def test_v110_file_and_native_flag_load(tmp_path):
    """ipmi_exporter 1.10's own example (ipmi_local_sudo.yml, whole) and
    --native-ipmi: the exporter starts, saying once what it ignores."""
    cfg = tmp_path / "ipmi_local_sudo.yml"
    cfg.write_text(
        "modules:\n  default:\n    collectors:\n      - ipmi\n      - sel\n"
        "    exclude_sensor_ids:\n      - 2\n      - 29\n      - 32\n"
        "    sel_events:\n      - name: correctable_memory_error\n"
        "        regex: Correctable memory error.*\n"
        "    collector_cmd:\n      ipmi: /usr/bin/sudo\n"
        "      sel: /usr/bin/sudo\n    custom_args:\n      ipmi:\n"
        "      - \"/usr/sbin/ipmimonitoring\"\n      sel:\n"
        "      - \"/usr/sbin/ipmi-sel\"\n")
    binary = TOP / os.environ.get("BUILD", "build") / "osh-ipmi-exporter"
    env = {"PATH": os.environ["PATH"], "OSH_LOG_LEVEL": "info"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([str(binary), f"--config.file={cfg}",
                          f"--web.listen-address=127.0.0.1:{port}",
                          "--native-ipmi"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    lines = []
    try:
        for line in p.stdout:
            lines.append(line)
            if 'msg="listening"' in line or len(lines) > 20:
                break
    finally:
        p.terminate()
        p.wait(timeout=10)
    text = "".join(lines)
    assert 'msg="listening"' in text, text
    assert text.count("--native-ipmi ignored") == 1, text
    assert text.count("module keys ignored") == 1, text
    assert "keys=collector_cmd,custom_args" in text

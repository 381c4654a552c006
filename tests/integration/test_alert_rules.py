"""The alerting loop of the stack up to Alertmanager: Prometheus loads the
rules of deploy/prometheus/rules/ and evaluates them without errors,
Alertmanager runs on loopback with the osh-alert-webhook receiver, and a
power action shows in server-mgmt's metric the unexpected power-off rule
reads. (A simulated BMC's CPU past its critical threshold becoming a
BMCSensorCritical alert in Alertmanager naming the server:
test_alerts_e2e.py. The rules themselves: promtool, make rules-check.)"""
import subprocess
import time

import pytest
import requests
import yaml

from conftest import (ALERTMANAGER, OFF, PORTS, PROMETHEUS, RUN, TOP,
                      wait_for)

RULES = yaml.safe_load((TOP / "deploy" / "prometheus" / "rules" /
                        "bmc.yml").read_text())
RULE_NAMES = {r["alert"] for g in RULES["groups"] for r in g["rules"]}


def prom(path, **params):
    r = requests.get(f"{PROMETHEUS}{path}", params=params, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.fixture(scope="module")
def sim1(admin):
    items = admin.get("/api/servers?limit=100").json()["items"]
    return next(s for s in items if s["name"] == "sim-1")


def test_prometheus_evaluates_the_rules():
    def evaluated():
        rules = [r for g in prom("/api/v1/rules")["groups"]
                 for r in g["rules"] if r["name"] in RULE_NAMES]
        return len(rules) == len(RULE_NAMES) and \
            all(r["health"] != "unknown" for r in rules) and rules
    rules = wait_for(evaluated, timeout=20, interval=0.5,
                     what="every rule evaluated")
    for r in rules:
        assert r["type"] == "alerting"
        assert r["health"] == "ok" and not r.get("lastError"), r
        assert r["labels"]["severity"] in ("critical", "warning", "info")
    # Prometheus sends to the stack's Alertmanager (once its discovery
    # has run).
    wait_for(lambda: [a["url"] for a in prom("/api/v1/alertmanagers")[
        "activeAlertmanagers"]] == [f"{ALERTMANAGER}/api/v2/alerts"],
        timeout=15, interval=0.5, what="Alertmanager known to Prometheus")


def test_alertmanager_routes_to_the_webhook():
    r = requests.get(f"{ALERTMANAGER}/api/v2/status", timeout=5)
    assert r.status_code == 200
    st = r.json()
    assert st["cluster"]["status"] == "disabled"
    cfg = yaml.safe_load(st["config"]["original"])
    assert cfg["route"]["receiver"] == "osh-alert-webhook"
    (recv,) = [x for x in cfg["receivers"]
               if x["name"] == "osh-alert-webhook"]
    (hook,) = recv["webhook_configs"]
    assert hook["url"] == \
        f"http://127.0.0.1:{8105 + OFF}/internal/alertmanager/webhook"
    assert hook["send_resolved"] is True
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    assert auth["credentials_file"] == str(RUN / "secrets" /
                                           "alert-webhook-secret")
    # Its ports (web; no cluster port at all) are on loopback only.
    pid = (RUN / "pids" / "alertmanager.pid").read_text().strip()
    out = subprocess.run(["ss", "-Hltunp"], capture_output=True, text=True,
                         timeout=10).stdout
    mine = [ln.split() for ln in out.splitlines() if f"pid={pid}," in ln]
    assert mine, out
    assert all(f[4].startswith("127.0.0.1:") for f in mine), mine


def test_power_action_is_in_server_mgmt_metrics(operator, sim1):
    before = time.time()
    r = operator.post(f"/api/servers/{sim1['id']}/power", {"action": "on"})
    assert r.status_code == 200, r.text
    text = requests.get(f"http://127.0.0.1:{PORTS['server-mgmt']}/metrics",
                        timeout=5).text
    line = [ln for ln in text.splitlines() if ln.startswith(
        'osh_power_action_requested_timestamp_seconds{server_id="%d"}'
        % sim1["id"])]
    assert line, text
    assert before - 1 <= float(line[0].split()[-1]) <= time.time()
    # Prometheus has it, to be joined on server_id by the rule.
    q = 'osh_power_action_requested_timestamp_seconds{server_id="%d"}' % \
        sim1["id"]
    wait_for(lambda: prom("/api/v1/query", query=q)["result"], timeout=15,
             interval=0.5, what="the series in Prometheus")

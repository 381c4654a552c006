"""The Grafana dashboards of deploy/grafana/, without Grafana: every
panel's query (rows and their nested panels included) with its variables
substituted runs against the stack's Prometheus scraping the simulated
BMCs, and must be valid and return data. Statically: panel ids unique,
every datasource reference the provisioned one, no panel without a query.

Some panels show trouble (active alerts, fans not nominal): while the
queries run, a fan of the stack's sim-3 stands at 0 RPM, so that its state
is critical and an alert pending. It is turned back before the alert's
for: (30 s) is over, so nothing reaches Alertmanager."""
import json
import re
import time

import pytest
import requests
import yaml

from conftest import PROMETHEUS, RUN, TOP, sim, wait_for

GRAFANA = TOP / "deploy" / "grafana"
DATASOURCE = yaml.safe_load((GRAFANA / "provisioning" / "datasources" /
                             "prometheus.yml").read_text())["datasources"][0]
DASHBOARDS = {p.name: json.loads(p.read_text())
              for p in sorted((GRAFANA / "dashboards").glob("*.json"))}
# Grafana's own variables, as a dashboard of the last few minutes has them.
BUILTIN = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
SERVER = "sim-3"  # the stack's own simulated BMC with a stopped fan
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def datasources(node):
    """Every value of a "datasource" key anywhere in the dashboard."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "datasource":
                yield v
            else:
                yield from datasources(v)
    elif isinstance(node, list):
        for v in node:
            yield from datasources(v)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_is_consistent(name):
    dash = DASHBOARDS[name]
    assert dash["schemaVersion"] >= 39 and dash["uid"]
    ids = [p["id"] for p in panels(dash["panels"])]
    assert len(ids) == len(set(ids)), f"panel ids repeated: {ids}"
    want = {"type": "prometheus", "uid": DATASOURCE["uid"]}
    refs = list(datasources(dash))
    assert refs and all(r == want for r in refs), refs
    for p in panels(dash["panels"]):
        if p["type"] != "row":
            assert [t["expr"] for t in p.get("targets", [])
                    if t.get("expr", "").strip()], f"{p['title']}: no query"
    assert len({d["uid"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)


def test_exporter_health_target_panels_follow_the_bmc_job():
    """The exporter health dashboard's panels about BMC targets count the
    targets of the chosen BMC jobs, not of every job that scrapes an
    exporter (upstream's beside ours, say): each ipmi_* selector has the
    target_job variable, a multi-value one with All."""
    dash = DASHBOARDS["exporter-health.json"]
    (var,) = [v for v in dash["templating"]["list"]
              if v["name"] == "target_job"]
    assert var["multi"] and var["includeAll"] and var["allValue"] == ".+"
    found = 0
    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            for sel in re.findall(r"\bipmi_\w+(?:\{[^}]*\})?", t["expr"]):
                found += 1
                assert 'job=~"$target_job"' in sel, (p["title"], sel)
    assert found >= 4


def test_provisioning_files():
    assert DATASOURCE["type"] == "prometheus"
    assert "$" in DATASOURCE["url"]  # from the environment
    (prov,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" /
                              "osh.yml").read_text())["providers"]
    assert prov["type"] == "file" and prov["options"]["path"]


def prom(path, **params):
    r = requests.get(f"{PROMETHEUS}{path}", params=params, timeout=10)
    assert r.status_code == 200, f"{params}: {r.status_code} {r.text}"
    return r.json()["data"]


def variables(dash):
    """Each template variable's value, label_values(selector, label) asked
    of Prometheus (the stack's sim-3 for a server); None while one has no
    values yet."""
    values = dict(BUILTIN)
    for v in dash.get("templating", {}).get("list", []):
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)",
                         v["definition"].strip())
        assert m, f"variable {v['name']}: {v['definition']}"
        got = prom(f"/api/v1/label/{m[2]}/values", **{"match[]": m[1]})
        if not got:
            return None
        values[v["name"]] = SERVER if SERVER in got else got[0]
    return values


def queries(dash, values):
    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            try:
                expr = VARIABLE.sub(lambda m: values[next(
                    g for g in m.groups() if g)], t["expr"])
            except KeyError as e:
                pytest.fail(f"{p['title']}: no variable {e}")
            yield p["title"], expr, t.get("instant", False)


def answer(expr, instant):
    if instant:
        return prom("/api/v1/query", query=expr)["result"]
    now = time.time()
    return prom("/api/v1/query_range", query=expr, start=now - 300,
                end=now, step=15)["result"]


@pytest.fixture
def fan_stopped():
    fleet = str(RUN / "sim")
    (fan,) = [s for s in json.loads(sim("show", fleet, "bmc3"))["sensors"]
              if s["name"] == "FAN1"]
    sim("set", fleet, "bmc3", "FAN1", "0")
    yield
    sim("set", fleet, "bmc3", "FAN1", str(fan["value"]))


def test_every_panel_query_returns_data(fan_stopped):
    todo = []
    for name, dash in DASHBOARDS.items():
        values = wait_for(lambda: variables(dash), timeout=30, interval=1,
                          what=f"the variables of {name}")
        todo += [(name, *q) for q in queries(dash, values)]
    # An invalid query fails at once (prom() wants a 200); one without
    # data is asked again until the stack's scrapes bring it.
    deadline = time.time() + 60
    while True:
        todo = [q for q in todo if not answer(q[2], q[3])]
        if not todo or time.time() > deadline:
            break
        time.sleep(1)
    assert not todo, "no data:\n" + "\n".join(
        f"{n} / {t}: {e}" for n, t, e, _ in todo)

"""The fleet's power draw counts each PSU once: a server's draw is its
DCMI reading where the BMC has one, else the sum of its power sensors
that are not PSU outputs (PSU inputs, a system total), else the sum of
its PSU outputs; never a PSU's input and its output both.

Against the stack's simulated fleet (each BMC has "PSU1 Input Power"
240 W and "PSU1 Output Pwr" 216 W, no DCMI): the metrics API's answer
and the fleet overview dashboard's queries give 240 W a server, where a
plain sum would give 456 W. ipmi_sim has no DCMI and every simulated BMC
has both sensors, so the other branches (DCMI, outputs only, a system
total) are proved with promtool: the very queries the service runs (its
answers name them) and the dashboard's, over series of four such
servers."""
import json
import subprocess
import textwrap

from conftest import wait_for
from test_grafana_dashboards import DASHBOARDS, panels, prom

INPUT_W, OUTPUT_W = 240, 216


def dashboard_power_queries():
    """The fleet overview's power draw queries: title -> [expr]."""
    out = {}
    for p in panels(DASHBOARDS["fleet-overview.json"]["panels"]):
        for t in p.get("targets", []):
            if "ipmi_power_watts" in t.get("expr", ""):
                out.setdefault(p["title"], []).append(t["expr"])
    return out


def per_server_sensors():
    """server_id -> {sensor name: watts}, once every scraped server has
    both PSU sensors (None before)."""
    got = prom("/api/v1/query", query="ipmi_power_watts")["result"]
    by = {}
    for s in got:
        by.setdefault(s["metric"]["server_id"], {})[
            s["metric"]["name"]] = float(s["value"][1])
    up = {s["metric"]["server_id"] for s in prom(
        "/api/v1/query", query="max by (server_id) (ipmi_up) == 1")[
            "result"]}
    if not up or any(set(by.get(i, {})) != {"PSU1 Input Power",
                                            "PSU1 Output Pwr"}
                     for i in up):
        return None
    return {i: by[i] for i in up}


def test_each_psu_counted_once_on_the_simulated_fleet(viewer):
    sensors = wait_for(per_server_sensors, timeout=60, interval=1,
                       what="both PSU sensors of every server scraped")
    for watts in sensors.values():
        assert watts == {"PSU1 Input Power": INPUT_W,
                         "PSU1 Output Pwr": OUTPUT_W}

    def by_server():
        r = viewer.get("/api/monitoring/fleet/power",
                       params={"by": "server"})
        assert r.status_code == 200, r.text
        b = r.json()
        ids = {s["labels"]["server_id"] for s in b["series"]}
        return b if ids >= set(sensors) else None
    b = wait_for(by_server, timeout=30, interval=1, what="every server")
    assert "ipmi_power_watts" in b["query"]
    for s in b["series"]:
        if s["labels"]["server_id"] in sensors:
            # The input once; not input + output (456 W).
            assert s["points"][0][1] == INPUT_W, s
    per_server = sum(s["points"][0][1] for s in b["series"])
    r = viewer.get("/api/monitoring/fleet/power", params={"by": "total"})
    assert r.status_code == 200, r.text
    (total,) = r.json()["series"]
    assert total["points"][0][1] == per_server
    # The dashboard's total and top five agree with the service's.
    for title, exprs in dashboard_power_queries().items():
        for expr in exprs:
            got = prom("/api/v1/query", query=expr)["result"]
            assert got, (title, expr)
            if expr.startswith("sum("):
                assert float(got[0]["value"][1]) == per_server, expr
            else:
                assert {float(s["value"][1]) for s in got} == {INPUT_W}, \
                    expr


# Four servers, one of each kind, as promtool input series: the labels
# the service discovery gives, the job and instance, the sensors' id and
# name.
SERVERS = [
    # DCMI and per-PSU inputs and outputs: DCMI's 300 W alone.
    ("1", "dcmi", "a", {"dcmi": 300, "PSU1 Input Power": 160,
                        "PSU2 Input Power": 170, "PSU1 Output Pwr": 150,
                        "PSU2 Output Power": 155}),
    # Two PSUs, inputs and outputs: the inputs, 240 + 250.
    ("2", "inout", "a", {"PSU1 Input Power": 240, "PSU2 Input Power": 250,
                         "PSU1 Output Pwr": 216, "PSU2 Output Power": 225}),
    # Outputs only, spelt two ways: 200 + 210.
    ("3", "outonly", "b", {"PS1 Pout": 200, "PS2 POUT": 210}),
    # A system total, no per-PSU sensors: 350.
    ("4", "total", "b", {"Pwr Consumption": 350}),
]
WANT = {"1": 300, "2": 490, "3": 410, "4": 350}


def input_series():
    out = []
    for sid, name, cluster, sensors in SERVERS:
        base = (f'server_id="{sid}",server_name="{name}",cluster="{cluster}"'
                f',job="ipmi",instance="bmc{sid}:623"')
        for i, (sensor, w) in enumerate(sensors.items(), 1):
            if sensor == "dcmi":
                metric = f"ipmi_dcmi_power_consumption_watts{{{base}}}"
            else:
                metric = (f'ipmi_power_watts{{{base},id="{i}",'
                          f'name="{sensor}"}}')
            out.append({"series": metric, "values": f"{w}x10"})
    return out


def labels(d):
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


def test_power_query_branches_with_promtool(viewer, tmp_path):
    def query(by):
        r = viewer.get("/api/monitoring/fleet/power", params={"by": by})
        assert r.status_code == 200, r.text
        return r.json()["query"]
    tests = [
        {"expr": query("total"), "eval_time": "5m",
         "exp_samples": [{"labels": "{}", "value": sum(WANT.values())}]},
        {"expr": query("server"), "eval_time": "5m",
         "exp_samples": [
             {"labels": labels({"server_id": sid, "server_name": name,
                                "cluster": cl}), "value": WANT[sid]}
             for sid, name, cl, _ in SERVERS]},
        {"expr": query("cluster"), "eval_time": "5m",
         "exp_samples": [{"labels": '{cluster="a"}', "value": 790},
                         {"labels": '{cluster="b"}', "value": 760}]},
    ]
    for exprs in dashboard_power_queries().values():
        for expr in exprs:
            if expr.startswith("sum("):
                want = [{"labels": "{}", "value": sum(WANT.values())}]
            else:
                want = [{"labels": labels({"server_name": name}),
                         "value": WANT[sid]} for sid, name, _, _ in SERVERS]
            tests.append({"expr": expr, "eval_time": "5m",
                          "exp_samples": want})
    spec = {"rule_files": [], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input_series(),
                       "promql_expr_test": tests}]}
    path = tmp_path / "power_test.yml"
    # JSON is YAML.
    path.write_text(json.dumps(spec, indent=1))
    r = subprocess.run(["promtool", "test", "rules", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, textwrap.shorten(
        r.stdout + r.stderr, 4000) + "\n" + path.read_text()


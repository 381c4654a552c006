"""osh-alert-webhook: Alertmanager's webhook (bearer secret, dedup by
fingerprint and startsAt, resolution, repeats and re-fires,
truncatedAlerts, 503 while PostgreSQL is down), the poll of Alertmanager
for silenced and inhibited alerts (against a stand-in serving
/api/v2/alerts), retention, SEL evidence from a simulated BMC, and the
alert list and detail through the gateway."""
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import PORTS, RUN, TOP, logs, pg, psql, wait_for

PORT = PORTS["alert-webhook"]
HOOK = f"http://127.0.0.1:{PORT}/internal/alertmanager/webhook"
METRICS = f"http://127.0.0.1:{PORT}/metrics"


def secret():
    return (RUN / "secrets" / "alert-webhook-secret").read_text().strip()


def fp():
    return secrets.token_hex(8)


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"  # nanoseconds


def now():
    return datetime.now(timezone.utc)


def alert(f, starts, status="firing", ends=None, annotations=None, **labels):
    labels.setdefault("alertname", "TestAlert")
    labels.setdefault("severity", "warning")
    return {"status": status, "labels": labels,
            "annotations": annotations or {"summary": "a test alert"},
            "startsAt": ts(starts),
            "endsAt": ts(ends) if ends else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph", "fingerprint": f}


def post(alerts, token="secret", truncated=0, body=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + (secret() if token == "secret"
                                          else token)
    if body is None:
        body = {"version": "4", "groupKey": "{}:{}", "status": "firing",
                "receiver": "osh", "groupLabels": {}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "http://am",
                "truncatedAlerts": truncated, "alerts": alerts}
    return requests.post(HOOK, data=json.dumps(body), headers=h, timeout=30)


def rows(f, cols="state"):
    out = psql("SELECT " + cols + " FROM alert_webhook.alerts WHERE "
               f"fingerprint = '{f}' ORDER BY starts_at")
    return out.splitlines() if out else []


def metric(name):
    text = requests.get(METRICS, timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def by_name(api, name, **params):
    r = api.get("/api/monitoring/alerts",
                params={"alertname": name, "limit": "500", **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_bearer_secret_required(admin):
    f = fp()
    a = [alert(f, now())]
    for token in ("wrong-" + secret(), None, admin.token, secret()[:-1]):
        r = post(a, token=token)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert rows(f) == []
    rid = r.json()["error"]["request_id"]
    wait_for(lambda: admin.get("/api/audit", params={
        "action": "alert.webhook", "request_id": rid}).json()["items"],
        what="the refusal audited")
    assert post(a).status_code == 200
    assert rows(f) == ["firing"]


def test_malformed_payload_names_the_field():
    f = fp()
    good = alert(f, now())
    bad = dict(good, startsAt="yesterday")
    cases = [([good, bad], None, "alerts[1].startsAt"),
             ([dict(good, fingerprint="not hex")], None,
              "alerts[0].fingerprint"),
             ([dict(good, labels={"a": 1})], None, "alerts[0].labels"),
             (None, {"version": "3", "status": "firing", "alerts": []},
              "version"),
             (None, {"version": "4", "status": "firing"}, "alerts")]
    for alerts, body, field in cases:
        r = post(alerts, body=body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == field
        assert field in r.json()["error"]["message"]
    assert 'msg="webhook payload refused" field="alerts[1].startsAt"' in \
        logs("alert-webhook")
    assert rows(f) == []


def test_dedup_resolution_refires_and_flapping(viewer, events):
    f, name = fp(), "Dedup" + secrets.token_hex(3)
    t0 = now() - timedelta(minutes=30)
    first = alert(f, t0, alertname=name)
    # Alertmanager HA: the same alert twice in a batch, then again.
    r = post([first, first])
    assert r.status_code == 200
    assert r.json()["new"] == 1 and r.json()["repeats"] == 1
    assert post([first]).json()["repeats"] == 1
    assert rows(f, "state, notifications") == ["firing|3"]
    # Resolved, then that resolution repeated: stays one resolved row.
    done = alert(f, t0, "resolved", t0 + timedelta(minutes=5),
                 alertname=name)
    assert post([done]).json()["resolved"] == 1
    assert post([done]).json()["resolved"] == 0
    # A late firing copy never reopens a resolved occurrence.
    post([first])
    assert rows(f, "state, ends_at IS NOT NULL") == ["resolved|t"]
    # Re-fires: new occurrences of the fingerprint.
    for k in (1, 2):
        t = t0 + timedelta(minutes=10 * k)
        post([alert(f, t, alertname=name)])
        post([alert(f, t, "resolved", t + timedelta(minutes=2),
                    alertname=name)])
    items = by_name(viewer, name)
    assert [i["state"] for i in items] == ["resolved"] * 3
    assert [i["fires"] for i in items] == [3, 3, 3]
    oldest = items[-1]
    assert oldest["repeats"] == 5  # 6 deliveries of that occurrence
    d = viewer.get(f"/api/monitoring/alerts/{items[0]['id']}").json()
    assert d["flapping"] is True
    assert [(h["state"], h["source"]) for h in d["history"]] == [
        ("firing", "webhook"), ("resolved", "webhook")]
    assert d["ends_at"] is not None and d["server"] is None
    assert d["evidence"] is None
    ev = events.wait(lambda e: e["data"].get("fingerprint") == f and
                     e["type"] == "alert.resolved", timeout=10)
    assert len(ev) == 3
    assert len([e for e in events.events() if e["type"] == "alert.new" and
                e["data"]["fingerprint"] == f]) == 3


def test_truncated_alerts_counted():
    before = int(psql("SELECT truncated_alerts FROM "
                      "alert_webhook.receiver_stats"))
    m = metric("osh_alert_webhook_truncated_alerts_total")
    assert post([alert(fp(), now())], truncated=7).status_code == 200
    assert int(psql("SELECT truncated_alerts FROM "
                    "alert_webhook.receiver_stats")) == before + 7
    assert metric("osh_alert_webhook_truncated_alerts_total") == m + 7


def test_filters_paging_and_permissions(viewer, admin):
    tag = secrets.token_hex(4)
    name = "Page" + tag
    t0 = now() - timedelta(hours=2)
    sev = ["critical", "warning", "info"]
    alerts = [alert(fp(), t0 + timedelta(minutes=i), alertname=name,
                    severity=sev[i % 3], server_id=str(900000 + i % 2),
                    clusters=",rack-a,db," if i % 2 else ",rack-b,",
                    annotations={"summary": "s", "description":
                                 f"needle-{tag}" if i == 4 else "hay"})
              for i in range(7)]
    assert post(alerts).status_code == 200
    post([dict(alerts[6], status="resolved", endsAt=ts(now()))])
    full = by_name(viewer, name)
    assert len(full) == 7
    assert [a["starts_at"] for a in full] == sorted(
        (a["starts_at"] for a in full), reverse=True)

    def ids(**params):
        return {a["id"] for a in by_name(viewer, name, **params)}
    assert len(ids(state="firing")) == 6 and len(ids(state="resolved")) == 1
    assert len(ids(severity="critical")) == 3
    assert len(ids(server_id="900001")) == 3
    assert len(ids(cluster="db")) == 3 and len(ids(cluster="rack-b")) == 4
    assert len(ids(q=f"NEEDLE-{tag}")) == 1
    assert len(ids(since=ts(t0 + timedelta(minutes=2)),
                   until=ts(t0 + timedelta(minutes=4)))) == 2
    assert ids(state="acknowledged") == set()
    # Keyset pages of 2, newest first, then oldest first.
    for sort, want in (("-starts_at", full), ("starts_at", full[::-1])):
        got, cursor = [], None
        while True:
            params = {"alertname": name, "limit": "2", "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = viewer.get("/api/monitoring/alerts", params=params).json()
            assert page["total"] == 7 and page["total_capped"] is False
            got += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [a["id"] for a in got] == [a["id"] for a in want]
    r = viewer.get("/api/monitoring/alerts", params={"cursor": "a1_1"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "cursor"
    r = viewer.get("/api/monitoring/alerts", params={"state": "open"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "state"
    assert viewer.get("/api/monitoring/alerts/999999999").status_code == 404
    assert admin.get(f"/api/monitoring/alerts/{full[0]['id']}"
                     ).status_code == 200
    assert viewer.get("/api/monitoring/alerts", token=None).status_code == 401


def test_keyset_pages_keep_alerts_of_one_instant(viewer):
    """Alerts of one rule evaluation share a startsAt finer than a
    millisecond: pages by cursor return each of them once; and a list
    item says what the alert's detail says (the list writes its JSON in
    C, the detail in SQL), odd characters included."""
    tag = secrets.token_hex(4)
    name = "Instant" + tag
    t = now() - timedelta(minutes=30)
    odd = 'quote " back \\ nl \n tab \t ctl \u0001 \u00e9\u2713 </script>'
    alerts = [alert(fp(), t, alertname=name, server_id=str(910000 + i),
                    annotations={"summary": odd if i == 0 else "s"})
              for i in range(5)]
    assert post(alerts).status_code == 200
    full = by_name(viewer, name)
    assert len(full) == 5
    for sort, want in (("-starts_at", full), ("starts_at", full[::-1])):
        got, cursor = [], None
        while True:
            params = {"alertname": name, "limit": "2", "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = viewer.get("/api/monitoring/alerts", params=params).json()
            got += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [a["id"] for a in got] == [a["id"] for a in want]
    for item in full:
        detail = viewer.get(f"/api/monitoring/alerts/{item['id']}").json()
        assert {k: detail[k] for k in item} == item
    assert any(a["summary"] == odd for a in full)


def sel_event_now():
    """Sets the stack's first simulated BMC's SEL clock (ipmi_sim counts
    from its start otherwise: entries without a date) and adds an entry."""
    t = int(now().timestamp())
    stamp = [f"0x{(t >> (8 * i)) & 255:02x}" for i in range(4)]
    port = 9001 + int(os.environ.get("OSH_PORT_OFFSET", "10000"))
    out = subprocess.run(
        ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p",
         str(port), "-U", "admin", "-E", "-L", "ADMINISTRATOR", "raw",
         "0x0a", "0x49", *stamp], capture_output=True, text=True,
        env=dict(os.environ, IPMI_PASSWORD="secret"), timeout=30)
    assert out.returncode == 0, out.stderr
    subprocess.run([sys.executable, str(TOP / "deploy/sim/osh-sim"), "event",
                    str(RUN / "sim"), "bmc1", "--count", "1"], check=True,
                   capture_output=True, timeout=60)


def test_sel_evidence_from_the_bmc(admin, viewer):
    sid = admin.get("/api/servers", params={"name": "sim-1"}
                    ).json()["items"][0]["id"]
    sel_event_now()
    sel = admin.get(f"/api/servers/{sid}/sel").json()["items"]
    entry = next(e for e in sel if e["timestamp"])
    at = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
    name = "Sel" + secrets.token_hex(3)
    r = post([alert(fp(), at + timedelta(seconds=30), alertname=name,
                    server_id=str(sid), server_name="sim-1"),
              alert(fp(), now(), alertname=name, server_id="987654321")])
    assert r.json()["evidence"] == 2
    items = {a["server_id"]: a for a in by_name(viewer, name)}

    def evidence(aid, status):
        d = viewer.get(f"/api/monitoring/alerts/{aid}").json()
        return d if d["evidence"]["status"] == status else None
    d = wait_for(lambda: evidence(items[sid]["id"], "done"), timeout=30,
                 what="SEL evidence")
    assert entry["id"] in [e["id"] for e in d["evidence"]["entries"]]
    assert d["server"] == {"id": sid, "name": "sim-1",
                           "href": f"/api/servers/{sid}"}
    d = wait_for(lambda: evidence(items[987654321]["id"], "failed"),
                 timeout=30, what="evidence of no server failed")
    assert "no such server" in d["evidence"]["error"]


def all_ready():
    for port in PORTS.values():
        try:
            if requests.get(f"http://127.0.0.1:{port}/ready",
                            timeout=5).status_code != 200:
                return False
        except requests.RequestException:
            return False
    return True


def test_database_down_503_then_stored_once():
    f = fp()
    a = [alert(f, now())]
    pg("stop")
    try:
        # (a 503 Response is falsy: wait for a list holding it)
        r = wait_for(lambda: [r for r in [post(a)] if r.status_code == 503],
                     timeout=20, what="503 without PostgreSQL")[0]
        assert r.json()["error"]["code"] == "unavailable"
        assert r.headers["Retry-After"].isdigit()
    finally:
        pg("start")
    # Alertmanager retries until it gets a 2xx.
    wait_for(lambda: post(a).status_code == 200, timeout=30,
             what="stored after PostgreSQL is back")
    assert rows(f, "state, notifications") == ["firing|1"]
    wait_for(all_ready, timeout=30, what="every service ready again")


class FakeAlertmanager(BaseHTTPRequestHandler):
    """GET /api/v2/alerts answering what the test sets."""
    alerts = []

    def do_GET(self):
        body = json.dumps(FakeAlertmanager.alerts).encode()
        self.send_response(200 if self.path.startswith("/api/v2/alerts")
                           else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def restart_service(**env):
    pid = int((RUN / "pids" / "alert-webhook.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=20,
             what="alert-webhook stopped")
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "start",
                    "alert-webhook"], check=True, capture_output=True,
                   timeout=120, env=dict(os.environ, **env))


@pytest.fixture
def fake_am():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeAlertmanager)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    FakeAlertmanager.alerts = []
    restart_service()


def am_alert(f, starts, state, silenced=(), inhibited=(), **labels):
    a = alert(f, starts, **labels)
    a.update(endsAt=ts(now() + timedelta(minutes=5)),
             updatedAt=ts(now()), receivers=[{"name": "osh"}],
             status={"state": state, "silencedBy": list(silenced),
                     "inhibitedBy": list(inhibited)})
    return a


def test_poll_and_retention(viewer, fake_am):
    name = "Poll" + secrets.token_hex(3)
    old = fp()
    t_old = now() - timedelta(days=50)
    post([alert(old, t_old, "resolved", t_old + timedelta(days=10))])
    assert rows(old) == ["resolved"]
    s, i, a = fp(), fp(), fp()
    t = now() - timedelta(minutes=3)
    FakeAlertmanager.alerts = [
        am_alert(s, t, "suppressed", silenced=["sil-1"], alertname=name),
        am_alert(i, t, "suppressed", inhibited=[a], alertname=name),
        am_alert(a, t, "active", alertname=name)]
    restart_service(OSH_ALERTMANAGER_URL=fake_am,
                    OSH_ALERT_POLL_INTERVAL_S="1",
                    OSH_ALERT_PRUNE_INTERVAL_S="1",
                    OSH_ALERT_RETENTION_DAYS="30")

    def states():
        return sorted(x["state"] for x in by_name(viewer, name))
    wait_for(lambda: states() == ["firing", "inhibited", "silenced"],
             timeout=20, what="polled alerts stored")
    # Retention: the alert that ended 40 days ago is gone.
    wait_for(lambda: rows(old) == [], timeout=20, what="pruned")
    # The silence and the inhibition end with their alerts: gone from
    # the poll, they are resolved.
    FakeAlertmanager.alerts = FakeAlertmanager.alerts[2:]
    wait_for(lambda: states() == ["firing", "resolved", "resolved"],
             timeout=20, what="vanished alerts resolved")
    sil = [x for x in by_name(viewer, name) if x["fingerprint"] == s][0]
    d = viewer.get(f"/api/monitoring/alerts/{sil['id']}").json()
    assert [(h["state"], h["source"]) for h in d["history"]] == [
        ("silenced", "poll"), ("resolved", "poll")]
    assert d["repeats"] == 0 and d["last_polled_at"] is not None
    assert metric("osh_alert_polls_total") >= 2

"""The alerting loop end to end, on the real stack: a simulated BMC's CPU
past its critical threshold becomes an alert that Prometheus raises,
Alertmanager sends, osh-alert-webhook stores, lists and pushes on its
event stream; an ack is an Alertmanager silence, expired by the service
when the alert resolves. A notification that meets PostgreSQL down is
retried by Alertmanager and stored once; a wrong bearer secret stores
nothing."""
import json
import secrets
import threading
import time

import requests

from conftest import (ALERTMANAGER, GATEWAY, PORTS, RUN, pg, psql, sim,
                      sse_read, wait_for)

WEBHOOK = (f"http://127.0.0.1:{PORTS['alert-webhook']}"
           "/internal/alertmanager/webhook")


def am(path, method="GET", **kw):
    r = requests.request(method, f"{ALERTMANAGER}{path}", timeout=5, **kw)
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def stored(alertname):
    return int(psql("SELECT count(*) FROM alert_webhook.alerts "
                    f"WHERE alertname = '{alertname}'"))


class Stream:
    """The alert event stream, read in the background from now on."""

    def __init__(self, api, last=None):
        self.events = []
        ticket = api.post("/api/monitoring/alerts/events/ticket")
        assert ticket.status_code == 201, ticket.text
        url = ("/api/monitoring/alerts/events?ticket=" +
               ticket.json()["ticket"])
        self.t = threading.Thread(target=self._run, args=(url, last),
                                  daemon=True)
        self.t.start()
        time.sleep(0.5)  # connected, its start taken

    def _run(self, url, last):
        try:
            sse_read(url, last=last, stop=self._keep, timeout=120)
        except requests.RequestException:
            pass

    def _keep(self, got):
        self.events = list(got)
        return False

    def wait(self, pred, what):
        return wait_for(lambda: [e for e in self.events if pred(e)],
                        timeout=60, interval=0.5, what=what)


def of(e, kind, alert_id):
    return e["event"] == kind and json.loads(e["data"])["id"] == alert_id


def test_wrong_secret_is_refused_and_stores_nothing():
    name = "E2EWrongSecret" + secrets.token_hex(3)
    body = {"version": "4", "status": "firing", "receiver": "x",
            "groupKey": "{}", "truncatedAlerts": 0, "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
            "alerts": [{"status": "firing", "labels": {"alertname": name},
                        "annotations": {}, "fingerprint": "0123456789abcdef",
                        "startsAt": "2024-01-01T00:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": ""}]}
    r = requests.post(WEBHOOK, json=body, timeout=5,
                      headers={"Authorization": "Bearer not-the-secret"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert stored(name) == 0
    # Not through the gateway either.
    r = requests.post(f"{GATEWAY}/internal/alertmanager/webhook", json=body,
                      timeout=5)
    assert r.status_code == 404
    assert stored(name) == 0


def test_critical_cpu_is_stored_pushed_acked_and_resolved(
        operator, viewer, admin):
    sim1 = next(s for s in admin.get("/api/servers?limit=100").json()[
        "items"] if s["name"] == "sim-1")
    stream = Stream(viewer)
    sim("set", str(RUN / "sim"), "bmc1", "CPU1 Temp", "97")
    try:
        q = ("/api/monitoring/alerts?alertname=BMCSensorCritical"
             f"&server_id={sim1['id']}&state=firing")
        (alert,) = wait_for(lambda: viewer.get(q).json()["items"],
                            timeout=60, interval=1, what="the alert stored")
        assert alert["server_name"] == "sim-1"
        assert alert["severity"] == "critical"
        assert alert["labels"]["name"] == "CPU1 Temp"
        assert alert["acknowledged"] is False
        assert alert["maintenance"] is None
        # What Prometheus raised and Alertmanager routed: the rule's
        # labels and annotations, naming server and sensor.
        r = requests.get(f"{ALERTMANAGER}/api/v2/alerts", timeout=5, params={
            "filter": ['alertname="BMCSensorCritical"',
                       f'server_id="{sim1["id"]}"']})
        (a,) = r.json()
        assert a["labels"]["server_name"] == "sim-1"
        assert a["labels"]["name"] == "CPU1 Temp"
        assert a["labels"]["severity"] == "critical"
        assert a["labels"]["instance"] == sim1["bmc_address"]
        assert "sim-1" in a["annotations"]["description"]
        assert "CPU1 Temp" in a["annotations"]["description"]
        assert [x["name"] for x in a["receivers"]] == ["osh-alert-webhook"]
        (new,) = stream.wait(lambda e: of(e, "new", alert["id"]),
                             "the new alert pushed")
        assert json.loads(new["data"])["server_id"] == sim1["id"]

        # Viewers read, operators acknowledge.
        r = viewer.post(f"/api/monitoring/alerts/{alert['id']}/ack",
                        {"comment": "mine"})
        assert r.status_code == 403
        r = operator.post(f"/api/monitoring/alerts/{alert['id']}/ack",
                          {"comment": "replacing the fan"})
        assert r.status_code == 201, r.text
        ack = r.json()
        assert ack["state"] == "active" and ack["until"] is None
        r = operator.post(f"/api/monitoring/alerts/{alert['id']}/ack",
                          {"comment": "again"})
        assert r.status_code == 409
        # The silence matches exactly the alert's labels.
        s = am(f"/api/v2/silence/{ack['silence_id']}")
        assert s["status"]["state"] == "active"
        assert s["createdBy"] == ack["created_by"]
        assert {(m["name"], m["value"]) for m in s["matchers"]} == \
            set(alert["labels"].items())
        assert all(m["isEqual"] and not m["isRegex"] for m in s["matchers"])
        stream.wait(lambda e: of(e, "acknowledged", alert["id"]),
                    "the ack pushed")
        got = viewer.get(f"/api/monitoring/alerts/{alert['id']}").json()
        assert got["acknowledged"] is True
        assert [a["silence_id"] for a in got["acks"]] == [ack["silence_id"]]
        assert any(h["state"] == "acknowledged" and
                   h["comment"] == "replacing the fan"
                   for h in got["history"])
        # The list of silences has it, as Alertmanager does.
        sil = viewer.get("/api/monitoring/silences?state=active").json()
        assert ack["silence_id"] in [x["id"] for x in sil["items"]]
        # It is the ack's to end, not the silences API's.
        r = operator.delete(f"/api/monitoring/silences/{ack['silence_id']}")
        assert r.status_code == 409
    finally:
        sim("set", str(RUN / "sim"), "bmc1", "CPU1 Temp", "45")

    # Resolved (learnt from the poll: a silenced alert sends no webhook),
    # and the ack's silence expired by the service.
    wait_for(lambda: viewer.get(f"/api/monitoring/alerts/{alert['id']}")
             .json()["state"] == "resolved", timeout=60, interval=1,
             what="the alert resolved")
    wait_for(lambda: am(f"/api/v2/silence/{ack['silence_id']}")[
        "status"]["state"] == "expired", timeout=30, interval=1,
        what="the ack's silence expired")
    got = viewer.get(f"/api/monitoring/alerts/{alert['id']}").json()
    assert got["acks"][0]["state"] == "expired"
    stream.wait(lambda e: of(e, "resolved", alert["id"]),
                "the resolution pushed")
    # Resumed after the new alert: what followed it comes again.
    ticket = viewer.post("/api/monitoring/alerts/events/ticket").json()
    again = sse_read("/api/monitoring/alerts/events?ticket=" +
                     ticket["ticket"], last=new["id"],
                     stop=lambda got: any(of(e, "resolved", alert["id"])
                                          for e in got))
    kinds = [e["event"] for e in again if
             json.loads(e["data"])["id"] == alert["id"]]
    assert kinds[0] == "acknowledged" and kinds[-1] == "resolved", kinds
    # A ticket opens one stream once.
    r = requests.get(f"{GATEWAY}/api/monitoring/alerts/events",
                     params={"ticket": ticket["ticket"]}, timeout=5)
    assert r.status_code == 401


def test_notification_meeting_postgres_down_is_stored_once():
    name = "E2EPostgresDown" + secrets.token_hex(3)
    metric = 'osh_alert_webhook_notifications_total{result="unavailable"}'

    def unavailable():
        text = requests.get(f"http://127.0.0.1:{PORTS['alert-webhook']}"
                            "/metrics", timeout=5).text
        return sum(float(ln.split()[-1]) for ln in text.splitlines()
                   if ln.startswith(metric))

    before = unavailable()
    pg("stop")
    try:
        am("/api/v2/alerts", "POST", json=[{
            "labels": {"alertname": name, "severity": "info"},
            "annotations": {"summary": "postgres down test"}}])
        # Refused with 503: Alertmanager retries.
        wait_for(lambda: unavailable() >= before + 2, timeout=30,
                 interval=0.5, what="notifications answered 503")
    finally:
        pg("start")
    wait_for(lambda: stored(name) == 1, timeout=60, interval=1,
             what="the alert stored after PostgreSQL returned")
    time.sleep(4)  # further notifications of the group: repeats
    assert stored(name) == 1

"""What operators do about alerts, through the gateway and the stack's
Alertmanager: silences (validated, createdBy the caller, the id
Alertmanager answers kept across an edit, expired), maintenance windows
(silences of servers or a cluster, named by the alerts in them), who may
do it, the audit, and Alertmanager down (503) or silent (504)."""
import os
import secrets
import signal
import time
from datetime import datetime, timedelta, timezone

import requests

from conftest import ALERTMANAGER, NOTHING_PORT, RUN, wait_for
from test_alerts import alert, by_name, fp, now, post, restart_service


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def later(minutes):
    return iso(datetime.now(timezone.utc) + timedelta(minutes=minutes))


def am_silence(sid):
    r = requests.get(f"{ALERTMANAGER}/api/v2/silence/{sid}", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def audited(admin, action, actor):
    return wait_for(lambda: [e for e in admin.get(
        "/api/audit", params={"action": action}).json()["items"]
        if e["actor"] == actor], timeout=20, what=f"{action} audited")


def test_silences_validated_created_edited_expired(operator, viewer, admin):
    tag = "Sil" + secrets.token_hex(3)
    body = {"matchers": [{"name": "alertname", "value": tag},
                         {"name": "server_id", "value": "1|2",
                          "is_regex": True}],
            "ends_at": later(60), "comment": "disk swap"}
    assert viewer.post("/api/monitoring/silences", body).status_code == 403
    for bad, field in (
            ({"matchers": []}, "matchers"),
            ({"matchers": [{"name": "bad-name", "value": "x"}]},
             "matchers[0]"),
            ({"matchers": [{"name": "a", "value": ".*", "is_regex": True}]},
             "matchers"),
            ({"ends_at": later(60 * 24 * 400)}, "ends_at"),
            ({"ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
            ({"comment": ""}, "comment"),
            ({"createdBy": "someone else"}, "createdBy")):
        r = operator.post("/api/monitoring/silences", {**body, **bad})
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["field"] == field, (bad, r.text)

    r = operator.post("/api/monitoring/silences", body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    got = viewer.get(f"/api/monitoring/silences/{sid}").json()
    assert got["state"] == "active" and got["comment"] == "disk swap"
    user = got["created_by"]
    assert user.startswith("operator-")  # the caller, whatever was sent
    assert am_silence(sid)["createdBy"] == user
    # An edit: the id Alertmanager answers is the silence's now.
    r = operator.post("/api/monitoring/silences",
                      {**body, "id": sid, "ends_at": later(120)})
    assert r.status_code == 201, r.text
    assert r.json()["replaced_id"] == sid
    new = r.json()["id"]
    assert viewer.get(f"/api/monitoring/silences/{new}").json()[
        "ends_at"] > got["ends_at"]
    active = viewer.get("/api/monitoring/silences",
                        params={"state": "active"}).json()["items"]
    assert new in [s["id"] for s in active]
    assert viewer.delete(f"/api/monitoring/silences/{new}").status_code == 403
    r = operator.delete(f"/api/monitoring/silences/{new}")
    assert r.status_code == 200, r.text
    assert am_silence(new)["status"]["state"] == "expired"
    r = operator.delete("/api/monitoring/silences/"
                        "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert operator.get("/api/monitoring/silences/not-an-id").status_code \
        == 404
    audited(admin, "silence.create", user)
    audited(admin, "silence.update", user)
    audited(admin, "silence.expire", user)


def test_maintenance_windows_silence_and_mark_alerts(operator, viewer,
                                                     admin):
    sid1, sid2 = 990000 + secrets.randbelow(9000), 999500
    cluster = "maint-" + secrets.token_hex(3)
    r = viewer.post("/api/monitoring/maintenance",
                    {"server_ids": [sid1], "ends_at": later(60),
                     "reason": "x"})
    assert r.status_code == 403
    r = operator.post("/api/monitoring/maintenance",
                      {"server_ids": [sid1], "cluster": cluster,
                       "ends_at": later(60), "reason": "x"})
    assert r.status_code == 400 and r.json()["error"]["field"] == \
        "server_ids"
    r = operator.post("/api/monitoring/maintenance",
                      {"server_ids": [sid1], "ends_at": later(60),
                       "reason": "firmware update"})
    assert r.status_code == 201, r.text
    w1 = r.json()
    assert w1["state"] == "active" and w1["server_ids"] == [sid1]
    r = operator.post("/api/monitoring/maintenance",
                      {"cluster": cluster, "ends_at": later(60),
                       "reason": "rack move"})
    assert r.status_code == 201, r.text
    w2 = r.json()
    (m1,) = am_silence(w1["silence_id"])["matchers"]
    assert (m1["name"], m1["value"], m1["isRegex"]) == \
        ("server_id", str(sid1), True)
    (m2,) = am_silence(w2["silence_id"])["matchers"]
    assert (m2["name"], m2["value"]) == ("clusters", f".*,{cluster},.*")

    # Alerts in a window say so.
    name = "Maint" + secrets.token_hex(3)
    t = now() - timedelta(seconds=5)
    r = post([alert(fp(), t, alertname=name, server_id=str(sid1)),
              alert(fp(), t, alertname=name, server_id=str(sid2),
                    clusters=f",other,{cluster},"),
              alert(fp(), t, alertname=name, server_id="999501")])
    assert r.status_code == 200, r.text
    got = {a["server_id"]: a["maintenance"] for a in by_name(viewer, name)}
    assert got[sid1]["id"] == w1["id"]
    assert got[sid2]["id"] == w2["id"]
    assert got[999501] is None

    listed = viewer.get("/api/monitoring/maintenance",
                        params={"server_id": sid1}).json()
    assert [w["id"] for w in listed["items"]] == [w1["id"]]
    active = viewer.get("/api/monitoring/maintenance",
                        params={"state": "active", "limit": 500}).json()
    assert {w1["id"], w2["id"]} <= {w["id"] for w in active["items"]}
    # The window's silence is the window's to end.
    r = operator.delete(f"/api/monitoring/silences/{w1['silence_id']}")
    assert r.status_code == 409
    r = operator.delete(f"/api/monitoring/maintenance/{w1['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    assert am_silence(w1["silence_id"])["status"]["state"] == "expired"
    assert operator.delete(
        f"/api/monitoring/maintenance/{w1['id']}").status_code == 409
    assert operator.delete(
        f"/api/monitoring/maintenance/{w2['id']}").status_code == 200
    assert viewer.get("/api/monitoring/maintenance/999999999").status_code \
        == 404
    user = w1["created_by"]
    audited(admin, "maintenance.create", user)
    audited(admin, "maintenance.cancel", user)


def test_alertmanager_down_or_silent(operator):
    body = {"matchers": [{"name": "alertname", "value": "Down"}],
            "ends_at": later(10), "comment": "c"}
    pid = int((RUN / "pids" / "alertmanager.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        # Silent: 504 once the deadline (OSH_ALERTMANAGER_TIMEOUT_MS)
        # passed, the gateway's own deadline far away.
        t = time.monotonic()
        r = operator.post("/api/monitoring/silences", body)
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"]
        assert time.monotonic() - t < 30
        assert operator.get("/api/monitoring/silences").status_code == 504
    finally:
        os.kill(pid, signal.SIGCONT)
    # Down: 503 at once.
    restart_service(
        OSH_ALERTMANAGER_URL=f"http://127.0.0.1:{NOTHING_PORT}")
    try:
        r = operator.post("/api/monitoring/silences", body)
        assert r.status_code == 503, r.text
        r = operator.post("/api/monitoring/maintenance",
                          {"server_ids": [1], "ends_at": later(10),
                           "reason": "r"})
        assert r.status_code == 503, r.text
    finally:
        restart_service()


def am_ends(sid):
    return datetime.strptime(am_silence(sid)["endsAt"][:19],
                             "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def test_ack_extended_undone_and_ended(operator, viewer, admin):
    """An ack's silence is extended while its alert fires (ends 10 s ahead
    here, extended once less than half is left), undone by DELETE (its
    silence expired, alert.unack audited, the alert no longer
    acknowledged), and an ack with ends_at ends then, its silence with
    it."""
    restart_service(OSH_ALERT_ACK_EXTEND_S="10")
    try:
        name = "Ack" + secrets.token_hex(3)
        t = now() - timedelta(seconds=5)
        r = post([alert(fp(), t, alertname=name, instance="kept"),
                  alert(fp(), t, alertname=name, instance="ending")])
        assert r.status_code == 200, r.text
        by = {a["labels"]["instance"]: a for a in by_name(viewer, name)}
        kept, ending = by["kept"], by["ending"]

        r = operator.post(f"/api/monitoring/alerts/{kept['id']}/ack",
                          {"comment": "on it"})
        assert r.status_code == 201, r.text
        ack = r.json()
        first_end = am_ends(ack["silence_id"])
        assert first_end <= now() + timedelta(seconds=11)

        def extended():
            a = viewer.get(f"/api/monitoring/alerts/{kept['id']}").json()
            sid = a["acks"][-1]["silence_id"]
            return a if a["acks"][-1]["state"] == "active" and \
                am_ends(sid) > first_end + timedelta(seconds=1) and \
                am_silence(sid)["status"]["state"] == "active" else None
        got = wait_for(extended, timeout=20, interval=0.5,
                       what="the ack's silence extended while it fires")
        assert got["acknowledged"] is True

        # Undone: the silence expired, the alert no longer acknowledged.
        assert viewer.delete(
            f"/api/monitoring/alerts/{kept['id']}/ack").status_code == 403
        r = operator.delete(f"/api/monitoring/alerts/{kept['id']}/ack")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "undone"
        sid = got["acks"][-1]["silence_id"]
        assert am_silence(sid)["status"]["state"] == "expired"
        a = viewer.get(f"/api/monitoring/alerts/{kept['id']}").json()
        assert a["acknowledged"] is False
        # No active ack left to undo.
        assert operator.delete(
            f"/api/monitoring/alerts/{kept['id']}/ack").status_code == 404
        user = ack["created_by"]
        audited(admin, "alert.ack", user)
        audited(admin, "alert.unack", user)

        # An ack until a time: refused in the past, then ended at it.
        r = operator.post(f"/api/monitoring/alerts/{ending['id']}/ack",
                          {"comment": "a while",
                           "ends_at": iso(now() - timedelta(minutes=1))})
        assert r.status_code == 400 and r.json()["error"]["field"] == \
            "ends_at"
        until = now() + timedelta(seconds=4)
        r = operator.post(f"/api/monitoring/alerts/{ending['id']}/ack",
                          {"comment": "a while", "ends_at": iso(until)})
        assert r.status_code == 201, r.text
        short = r.json()
        assert am_ends(short["silence_id"]) <= until + timedelta(seconds=1)
        wait_for(lambda: viewer.get(
            f"/api/monitoring/alerts/{ending['id']}").json()["acks"][-1][
            "state"] == "ended", timeout=20, interval=0.5,
            what="the ack ended at its time")
        assert am_silence(short["silence_id"])["status"]["state"] == \
            "expired"
    finally:
        restart_service()


def test_upcoming_maintenance_window(operator, viewer):
    """A window that starts later: upcoming, its silence pending in
    Alertmanager, and an alert firing now is not in it."""
    sid = 980000 + secrets.randbelow(9000)
    r = operator.post("/api/monitoring/maintenance",
                      {"server_ids": [sid], "starts_at": later(60),
                       "ends_at": later(120), "reason": "next hour"})
    assert r.status_code == 201, r.text
    w = r.json()
    try:
        assert w["state"] == "upcoming"
        assert am_silence(w["silence_id"])["status"]["state"] == "pending"
        name = "Upcoming" + secrets.token_hex(3)
        r = post([alert(fp(), now() - timedelta(seconds=5), alertname=name,
                        server_id=str(sid))])
        assert r.status_code == 200, r.text
        (a,) = by_name(viewer, name)
        assert a["maintenance"] is None
        r = operator.post("/api/monitoring/maintenance",
                          {"server_ids": [sid], "starts_at": later(130),
                           "ends_at": later(125), "reason": "backwards"})
        assert r.status_code == 400, r.text
    finally:
        operator.delete(f"/api/monitoring/maintenance/{w['id']}")

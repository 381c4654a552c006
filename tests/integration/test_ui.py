"""The web UI in Debian's chromium against this stack, through its nginx
(ui/test/e2e/browser.mjs: login, search, a server's page, power with
confirmation, errors with request ids, reload, logout, a viewer's
disabled buttons, axe-core on every page, screenshots light and dark
under build/ui/screenshots). make test-integration builds the UI first
(make ui)."""
import os
import subprocess

from conftest import GATEWAY, TOP

SCRIPT = TOP / "ui" / "test" / "e2e" / "browser.mjs"


def test_web_ui_in_a_browser(admin_password, make_user):
    assert (TOP / "build" / "ui" / "dist" / "index.html").exists(), \
        "the UI is not built: make ui"
    assert (TOP / "ui" / "node_modules" / "playwright-core").exists(), \
        "ui/node_modules is missing: make ui"
    assert os.path.exists("/usr/bin/chromium"), \
        "chromium is missing: deploy/local/install-deps.sh"
    viewer, viewer_pw, _ = make_user("viewer")
    # Passwords go to the script in its environment, never on a command
    # line.
    env = dict(os.environ, OSH_GATEWAY=GATEWAY,
               OSH_ADMIN_PASSWORD=admin_password,
               OSH_VIEWER_USER=viewer["username"],
               OSH_VIEWER_PASSWORD=viewer_pw,
               OSH_UI_SHOTS=str(TOP / "build" / "ui" / "screenshots"))
    r = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True,
                       text=True, timeout=300, cwd=TOP)
    assert r.returncode == 0, r.stdout + r.stderr


def test_web_ui_operations_in_a_browser(admin, admin_password, make_user):
    """The operations pages (ui/test/e2e/ops.mjs): a staggered cluster job
    watched live, an alert acked, a user created and audited, a CSV
    checked row by row, a scan, a password change, reload and logout."""
    import json
    import secrets
    from datetime import datetime, timezone

    import requests

    from conftest import OFF, PORTS, RUN

    ids = []
    for name in ("sim-1", "sim-2", "sim-3"):
        r = admin.get("/api/servers", params={"name": name})
        ids += [s["id"] for s in r.json()["items"] if s["name"] == name]
    assert len(ids) == 3, ids
    tag = secrets.token_hex(3)
    r = admin.post("/api/clusters", {"name": f"ui-ops-{tag}",
                                     "description": "the UI test's cluster"})
    assert r.status_code == 201, r.text
    cluster = r.json()["id"]
    assert admin.post(f"/api/clusters/{cluster}/servers",
                      {"server_ids": ids}).status_code == 200
    # A firing alert, as Alertmanager would deliver it.
    alertname = f"UiTestAlert{tag}"
    start = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    hook = (f"http://127.0.0.1:{PORTS['alert-webhook']}"
            "/internal/alertmanager/webhook")
    secret = (RUN / "secrets" / "alert-webhook-secret").read_text().strip()
    body = {"version": "4", "groupKey": "{}:{}", "status": "firing",
            "receiver": "osh", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am",
            "truncatedAlerts": 0, "alerts": [{
                "status": "firing", "labels": {
                    "alertname": alertname, "severity": "warning",
                    "server_id": str(ids[0]), "server_name": "sim-1"},
                "annotations": {"summary": "raised by the UI test"},
                "startsAt": start, "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": secrets.token_hex(8)}]}
    r = requests.post(hook, data=json.dumps(body), timeout=30, headers={
        "Content-Type": "application/json",
        "Authorization": f"Bearer {secret}"})
    assert r.status_code < 300, r.text
    viewer, viewer_pw, _ = make_user("viewer")
    env = dict(os.environ, OSH_GATEWAY=GATEWAY,
               OSH_ADMIN_PASSWORD=admin_password,
               OSH_VIEWER_USER=viewer["username"],
               OSH_VIEWER_PASSWORD=viewer_pw,
               OSH_UI_CLUSTER=str(cluster), OSH_UI_ALERT=alertname,
               OSH_UI_SCAN_PORT=str(9001 + OFF),
               OSH_UI_SHOTS=str(TOP / "build" / "ui" / "screenshots"))
    try:
        r = subprocess.run(["node", str(TOP / "ui" / "test" / "e2e" /
                                        "ops.mjs")],
                           env=env, capture_output=True, text=True,
                           timeout=900, cwd=TOP)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        admin.delete(f"/api/clusters/{cluster}")
        # The alert resolves, as Alertmanager would say: no other test
        # sees it fire.
        a = body["alerts"][0]
        a["status"] = "resolved"
        a["endsAt"] = datetime.now(timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
        body["status"] = "resolved"
        requests.post(hook, data=json.dumps(body), timeout=30, headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {secret}"})

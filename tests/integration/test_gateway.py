"""The gateway: routing, request ids, internal routes, security headers,
JSON errors, and the services behind it on loopback only."""
import json
import re
import secrets
import socket

import requests

from conftest import GATEWAY, OFF, PORTS, RUN, Api, logs


def test_request_id_passes_through(admin):
    r = admin.get("/api/auth/profile", headers={"X-Request-Id": "trace-me-42"})
    assert r.headers["X-Request-Id"] == "trace-me-42"
    assert 'request_id="trace-me-42"' in logs("auth")


def test_request_id_generated_when_absent_or_odd(admin):
    r = admin.get("/api/auth/profile")
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])
    r = admin.get("/api/auth/profile", headers={"X-Request-Id": "bad id\"x"})
    assert r.headers["X-Request-Id"] != "bad id\"x"
    err = admin.get("/api/users/0").json()["error"]
    assert err["request_id"]


def test_security_headers():
    for path in ("/api/auth/jwks", "/nope", "/health"):
        r = requests.get(GATEWAY + path, timeout=5)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert "Server" not in r.headers or "/" not in r.headers["Server"]


def test_internal_routes_are_not_exposed():
    r = requests.post(GATEWAY + "/internal/auth/service-token",
                      json={"service": "x", "secret": "y"}, timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_service_metrics_not_exposed():
    for path in ("/metrics", "/ready", "/api/../metrics"):
        assert requests.get(GATEWAY + path, timeout=5).status_code == 404


def test_unknown_path_json_404():
    r = requests.get(GATEWAY + "/api/nothing-here", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "not_found"


def test_monitoring_routed_to_alert_webhook():
    """/api/monitoring reaches osh-alert-webhook (its own JSON 401 without
    a token); its Alertmanager receiver (/internal/...) is not routed."""
    r = requests.get(GATEWAY + "/api/monitoring/alerts", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = requests.post(GATEWAY + "/internal/alertmanager/webhook",
                      json={"version": "4"}, timeout=5)
    assert r.status_code == 404


def test_root_points_at_the_api():
    """An API client asking for JSON gets the index at /; a browser gets
    the web UI."""
    r = requests.get(GATEWAY + "/", timeout=5,
                     headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["api"] == "/api"
    assert r.json()["health"] == "/health"


def test_web_ui_served_with_strict_csp():
    """/ and the UI's routes answer index.html (never cached) under a CSP
    with no inline script and no eval; its hashed assets are cached for a
    year; unknown paths stay JSON 404s."""
    for path in ("/", "/servers", "/servers/12", "/login"):
        r = requests.get(GATEWAY + path, timeout=5,
                         headers={"Accept": "text/html,*/*"})
        assert r.status_code == 200, path
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.headers["Cache-Control"] == "no-cache"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["X-Frame-Options"] == "DENY"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', r.text)
    assert len(assets) == 2
    for a in assets:
        assert re.fullmatch(r"/assets/app-[A-Z0-9]{8}\.(js|css)", a)
        r = requests.get(GATEWAY + a, timeout=5)
        assert r.status_code == 200
        assert "immutable" in r.headers["Cache-Control"]
        assert r.headers["Content-Type"].startswith(
            "text/javascript" if a.endswith(".js") else "text/css")
    r = requests.get(GATEWAY + "/assets/app-NOTTHERE.js", timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_clusters_routed_to_cluster_mgmt(admin):
    r = admin.get("/api/clusters")
    assert r.status_code == 200
    assert "items" in r.json()


def test_services_listen_on_loopback_only():
    addrs = [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)
             if not a[4][0].startswith("127.") and a[4][0] != "::1"]
    for addr in addrs[:2]:
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.settimeout(1)
        try:
            assert s.connect_ex((addr, PORTS["auth"])) != 0
        finally:
            s.close()


def test_service_token_on_internal_route():
    secret = (RUN / "secrets" / "service-secret").read_text().strip()
    url = f"http://127.0.0.1:{PORTS['auth']}/internal/auth/service-token"
    r = requests.post(url, json={"service": "server-mgmt", "secret": "nope"},
                      timeout=5)
    assert r.status_code == 401
    r = requests.post(url, json={"service": "server-mgmt", "secret": secret},
                      timeout=5)
    assert r.status_code == 200
    tok = r.json()["access_token"]
    # A service token is not a user session.
    assert Api(tok).get("/api/auth/profile").status_code == 403
    assert Api(tok).get("/api/users").status_code == 403


def test_health_ready_metrics_on_service_port():
    base = f"http://127.0.0.1:{PORTS['auth']}"
    assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
    r = requests.get(base + "/ready", timeout=5)
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}
    m = requests.get(base + "/metrics", timeout=5).text
    assert 'osh_http_requests_total{route="/api/auth/login"' in m
    assert "osh_http_request_duration_seconds_bucket" in m
    assert 'osh_db_pool_connections{state="idle"}' in m
    assert "osh_redis_connected 1" in m


def test_check_config_rejects_bad_values():
    import subprocess
    import os
    from conftest import TOP
    build = os.environ.get("BUILD", "build")
    binary = str(TOP / build / "osh-auth")
    env = {"PATH": "/usr/bin:/bin", "OSH_PORT": "99999",
           "OSH_JWT_PUBLIC_KEY_FILE": str(RUN / "secrets" / "jwt-public.pem")}
    out = subprocess.run([binary, "--check-config"], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "OSH_PORT" in out.stderr


def test_kept_answers_go_gzip_encoded(admin):
    """A list page (a kept answer, sent from one copy) goes gzip-encoded
    through nginx to a client that takes it, and as it is to one that
    does not; both say Vary: Accept-Encoding."""
    tag = secrets.token_hex(3)
    ids = []
    try:
        for i in range(4):  # a page well over the 1 KB threshold
            r = admin.post("/api/servers", {
                "name": f"gz-{tag}-{i}",
                "bmc_address": f"127.0.0.4:{30000 + i}",
                "description": "x" * 200})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        url = f"/api/servers?limit=100&q=gz-{tag}"
        gz = admin.get(url, headers={"Accept-Encoding": "gzip"})
        plain = admin.get(url, headers={"Accept-Encoding": "identity"})
        for r in (gz, plain):
            assert r.status_code == 200, r.text
            assert "Accept-Encoding" in r.headers["Vary"]
            assert sorted(s["id"] for s in r.json()["items"]) == ids
        assert gz.headers["Content-Encoding"] == "gzip"
        assert "Content-Encoding" not in plain.headers
        assert int(gz.headers["Content-Length"]) < \
            int(plain.headers["Content-Length"]) / 2
    finally:
        for sid in ids:
            admin.delete(f"/api/servers/{sid}")

"""The gateway: routing, request ids, internal routes, security headers,
JSON errors, and the services behind it on loopback only."""
import json
import re
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


def test_services_not_built_yet_answer_json_503():
    for path in ("/api/monitoring/alerts",):
        r = requests.get(GATEWAY + path, timeout=5)
        assert r.status_code == 503, path
        assert r.json()["error"]["code"] == "unavailable"
        assert "not part of this deployment" in r.json()["error"]["message"]
        assert r.json()["error"]["message"].startswith("osh-")
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_root_points_at_the_api():
    r = requests.get(GATEWAY + "/", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["api"] == "/api"
    assert r.json()["health"] == "/health"


def test_clusters_routed_to_cluster_mgmt(admin):
    r = admin.get("/api/clusters")
    assert r.status_code == 200
    assert "items" in r.json()


def test_absent_services_get_no_request_and_no_token(admin):
    """Until alert-webhook runs, nginx answers its routes itself: whatever
    listens on its port gets nothing, bearer tokens least of all."""
    listeners = []
    for port in (8105 + OFF,):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        s.setblocking(False)
        listeners.append(s)
    try:
        for path in ("/api/monitoring/alerts", "/api/monitoring/x"):
            try:
                r = requests.post(GATEWAY + path, json={"x": 1}, timeout=5,
                                  headers={"Authorization":
                                           f"Bearer {admin.token}"})
            except requests.RequestException as e:
                raise AssertionError(f"{path} was proxied: {e}")
            assert r.status_code == 503, path
            assert r.headers["Content-Type"].startswith("application/json")
            assert r.json()["error"]["code"] == "unavailable"
            assert int(r.headers["Retry-After"]) > 0
        for s in listeners:
            try:
                conn, _ = s.accept()
            except BlockingIOError:
                continue
            conn.settimeout(1)
            got = conn.recv(65536)
            conn.close()
            raise AssertionError(f"the gateway connected: {got[:200]!r}")
    finally:
        for s in listeners:
            s.close()


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

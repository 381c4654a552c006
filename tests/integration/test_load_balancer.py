"""A TLS-terminating load balancer in front of the gateway (issue 13):
nginx believes X-Forwarded-For and X-Forwarded-Proto from the addresses
of OSH_GATEWAY_TRUSTED_PROXIES only (run.sh: 127.0.0.77/32), and tells the
services; the refresh cookie is Secure exactly when the browser reached
the load balancer over HTTPS; the audit log and the login limit see the
browser's address, not the balancer's. Everything goes through nginx, from
loopback source addresses (127.0.0.77 plays the balancer, 127.0.0.78 a
client that forges the same headers)."""
from conftest import Api, wait_for

LB = "127.0.0.77"
STRANGER = "127.0.0.78"
COOKIE = "osh_refresh"

def cookie_login(user, pw, source, headers):
    api = Api(source=source)
    r = api.post("/api/auth/login", {"username": user, "password": pw,
                                     "session": "cookie"}, headers=headers)
    api.s.close()
    assert r.status_code == 200, r.text
    raw = r.headers["Set-Cookie"]
    assert raw.startswith(COOKIE + "="), raw
    return {p.strip().split("=")[0].lower() for p in raw.split(";")[1:]}


def test_secure_cookie_behind_a_tls_load_balancer(make_user):
    user, pw, _ = make_user("viewer")
    https = {"X-Forwarded-Proto": "https",
             "X-Forwarded-For": "198.51.100.23"}
    # The balancer says the browser came over HTTPS: Secure.
    assert "secure" in cookie_login(user["username"], pw, LB, https)
    assert "secure" in cookie_login(
        user["username"], pw, LB, {"X-Forwarded-Proto": "HTTPS"})
    # It says plain HTTP, or says nothing: not Secure.
    assert "secure" not in cookie_login(
        user["username"], pw, LB, {"X-Forwarded-Proto": "http"})
    assert "secure" not in cookie_login(user["username"], pw, LB, {})
    # Anyone else saying the same is not believed.
    assert "secure" not in cookie_login(user["username"], pw, STRANGER,
                                        https)
    assert "secure" not in cookie_login(user["username"], pw, "127.0.0.1",
                                        https)


def test_client_address_through_the_balancer(admin, make_user):
    user, pw, _ = make_user("viewer")
    target = f"user:{user['id']}"
    # Through the balancer: the browser's address (the rightmost entry
    # the balancer did not add itself); a forged left part is ignored.
    for source, xff, want in [
            (LB, "203.0.113.5, 198.51.100.24", "198.51.100.24"),
            (LB, "2001:DB8::24", "2001:db8::24"),
            (STRANGER, "198.51.100.25", STRANGER)]:
        api = Api(source=source)
        r = api.post("/api/auth/login", {"username": user["username"],
                                         "password": "wrong-" + pw},
                     headers={"X-Forwarded-For": xff,
                              "X-Real-IP": "192.0.2.99"})
        api.s.close()
        assert r.status_code == 401, r.text

        def seen(want=want):
            rows = admin.get("/api/audit", params={
                "target": target, "action": "auth.login",
                "limit": "50"}).json()["items"]
            return [e for e in rows if e["client"] == want]
        wait_for(seen, what=f"a failed login audited from {want}")
    rows = admin.get("/api/audit", params={"target": target,
                                           "limit": "50"}).json()["items"]
    assert not [e for e in rows if e["client"] in ("192.0.2.99",
                                                   "203.0.113.5",
                                                   "198.51.100.25")]

"""Browser sessions (issue 12): the refresh token lives in an HttpOnly,
SameSite=Strict cookie on /api/auth, refresh from it needs X-OSH-CSRF,
logout clears it; API clients keep their JSON tokens. Through nginx,
cookies sent by hand (no cookie jar), so every attribute is checked."""
import re

import requests

from conftest import GATEWAY, PORTS, RUN, Api, logs, wait_for

COOKIE = "osh_refresh"


def call(method, path, body=None, cookie=None, csrf=False, token=None,
         headers=None):
    h = dict(headers or {})
    if cookie is not None:
        h["Cookie"] = f"other=1; {COOKIE}={cookie}"
    if csrf:
        h["X-OSH-CSRF"] = "1"
    api = Api(token)
    r = api.call(method, path, json_body=body, headers=h)
    api.s.close()
    return r


def set_cookie(r):
    """The osh_refresh Set-Cookie of an answer: (value, {attribute: value})."""
    raw = r.headers.get("Set-Cookie")
    assert raw is not None, f"no Set-Cookie: {r.status_code} {r.text}"
    parts = [p.strip() for p in raw.split(";")]
    name, _, value = parts[0].partition("=")
    assert name == COOKIE, raw
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.lower()] = v
    return value, attrs


def browser_login(user, pw):
    r = call("POST", "/api/auth/login",
             {"username": user, "password": pw, "session": "cookie"})
    assert r.status_code == 200, r.text
    return r


def test_login_sets_the_cookie(make_user, admin):
    user, pw, _ = make_user("viewer")
    r = browser_login(user["username"], pw)
    body = r.json()
    assert "refresh_token" not in body
    value, attrs = set_cookie(r)
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", value)
    assert value not in r.text
    assert "httponly" in attrs and attrs["samesite"] == "Strict"
    assert attrs["path"] == "/api/auth"
    assert int(attrs["max-age"]) == body["refresh_expires_in"] > 0
    assert "secure" not in attrs  # plain HTTP to nginx
    assert call("GET", "/api/auth/profile",
                token=body["access_token"]).status_code == 200

    # Audited like other logins, as a cookie session; no value anywhere.
    def audited():
        items = admin.get("/api/audit", params={
            "actor": user["username"], "action": "auth.login"}).json()["items"]
        return [e for e in items
                if e["details"].get("session") == "cookie"] or None
    wait_for(audited, what="cookie login audited")
    assert value not in logs("auth")
    assert value not in (RUN / "logs" / "nginx-access.log").read_text(
        errors="replace")


def test_refresh_needs_the_header_and_rotates(make_user):
    user, pw, _ = make_user("viewer")
    first, _ = set_cookie(browser_login(user["username"], pw))

    r = call("POST", "/api/auth/refresh", cookie=first)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "csrf_header_required"
    assert r.json()["error"]["field"] == "X-OSH-CSRF"
    r = call("POST", "/api/auth/refresh", cookie=first,
             headers={"X-OSH-CSRF": "0"})
    assert r.status_code == 403

    r = call("POST", "/api/auth/refresh", cookie=first, csrf=True)
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()
    second, attrs = set_cookie(r)
    assert second != first and attrs["samesite"] == "Strict"
    assert call("GET", "/api/auth/profile",
                token=r.json()["access_token"]).status_code == 200
    # The page reloads: the cookie alone gets a new access token.
    r = call("POST", "/api/auth/refresh", cookie=second, csrf=True)
    assert r.status_code == 200
    third, _ = set_cookie(r)

    # A spent cookie comes back: the family is revoked, the cookie cleared.
    r = call("POST", "/api/auth/refresh", cookie=first, csrf=True)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_reused"
    value, attrs = set_cookie(r)
    assert value == "" and attrs["max-age"] == "0"
    r = call("POST", "/api/auth/refresh", cookie=third, csrf=True)
    assert r.status_code == 401

    # Malformed or twice: refused and cleared; none at all: 400.
    r = call("POST", "/api/auth/refresh", cookie="a b", csrf=True)
    assert r.status_code == 401 and set_cookie(r)[1]["max-age"] == "0"
    r = call("POST", "/api/auth/refresh", csrf=True,
             headers={"Cookie": f"{COOKIE}=a; {COOKIE}=b"})
    assert r.status_code == 401
    r = call("POST", "/api/auth/refresh", csrf=True)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "refresh_token"


def test_logout_clears_the_cookie(make_user):
    user, pw, _ = make_user("viewer")
    r = browser_login(user["username"], pw)
    cookie, _ = set_cookie(r)
    token = r.json()["access_token"]
    r = call("POST", "/api/auth/logout", cookie=cookie, token=token)
    assert r.status_code == 204
    value, attrs = set_cookie(r)
    assert value == "" and attrs["max-age"] == "0"
    assert attrs["path"] == "/api/auth"
    assert call("POST", "/api/auth/refresh", cookie=cookie,
                csrf=True).status_code == 401
    assert call("GET", "/api/auth/profile", token=token).status_code == 401


def test_logout_everywhere(make_user):
    user, pw, _ = make_user("viewer")
    api = call("POST", "/api/auth/login",
               {"username": user["username"], "password": pw}).json()
    r = browser_login(user["username"], pw)
    cookie, _ = set_cookie(r)
    r = call("POST", "/api/auth/logout", {"everywhere": True}, cookie=cookie,
             token=r.json()["access_token"])
    assert r.status_code == 204
    assert set_cookie(r)[1]["max-age"] == "0"
    # The other session (an API client's) is over too.
    assert call("POST", "/api/auth/refresh", {
        "refresh_token": api["refresh_token"]}).status_code == 401
    wait_for(lambda: call("GET", "/api/auth/profile",
                          token=api["access_token"]).status_code == 401,
             what="access token of the other session denied")


def test_api_json_flow_unchanged(make_user):
    user, pw, _ = make_user("viewer")
    r = call("POST", "/api/auth/login",
             {"username": user["username"], "password": pw})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    pair = r.json()
    r = call("POST", "/api/auth/refresh",
             {"refresh_token": pair["refresh_token"]})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert r.json()["refresh_token"] != pair["refresh_token"]
    r = call("POST", "/api/auth/logout", token=r.json()["access_token"])
    assert r.status_code == 204 and "Set-Cookie" not in r.headers


def test_secure_over_https(make_user):
    user, pw, _ = make_user("viewer")
    body = {"username": user["username"], "password": pw, "session": "cookie"}
    # nginx sets X-Forwarded-Proto from its own scheme: a client cannot
    # claim https over plain HTTP.
    r = call("POST", "/api/auth/login", body,
             headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200 and "secure" not in set_cookie(r)[1]
    # What nginx sends when it serves HTTPS, from a trusted proxy's
    # address (OSH_TRUSTED_PROXIES: loopback by default).
    r = requests.post(f"http://127.0.0.1:{PORTS['auth']}/api/auth/login",
                      json=body, headers={"X-Forwarded-Proto": "https"},
                      timeout=10)
    assert r.status_code == 200, r.text
    _, attrs = set_cookie(r)
    assert "secure" in attrs and attrs["samesite"] == "Strict"


def test_sse_with_an_access_token_in_memory(make_user):
    """A page holding only its access token opens the alert stream with a
    single-use ticket; after the ticket is spent, a new EventSource says
    where it was with ?last_event_id= (it cannot set the header)."""
    user, pw, _ = make_user("viewer")
    token = browser_login(user["username"], pw).json()["access_token"]
    path = "/api/monitoring/alerts/events"

    def ticket():
        r = call("POST", path + "/ticket", token=token)
        assert r.status_code == 201, r.text
        return r.json()["ticket"]

    t = ticket()
    url = Api().s.get  # a plain client: EventSource sends no token
    with url(GATEWAY + path, params={"ticket": t}, stream=True,
             timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
    with url(GATEWAY + path, params={"ticket": t}, stream=True,
             timeout=10) as r:
        assert r.status_code == 401  # spent: EventSource's own retry fails
    with url(GATEWAY + path, params={"ticket": ticket(),
                                     "last_event_id": "nope"},
             stream=True, timeout=10) as r:
        assert r.status_code == 400
        assert r.json()["error"]["field"] == "last_event_id"
    with url(GATEWAY + path, params={"ticket": ticket(),
                                     "last_event_id": "0-0"},
             stream=True, timeout=10) as r:
        assert r.status_code == 200


def test_password_change_renews_the_cookie(make_user):
    """A password change ends every session, the browser's too: a browser
    that changes its password gets a new cookie, not a refresh_token."""
    user, pw, _ = make_user("viewer")
    r = browser_login(user["username"], pw)
    old, _ = set_cookie(r)
    r = call("POST", "/api/auth/password",
             {"current_password": pw, "new_password": pw + "-new"},
             cookie=old, token=r.json()["access_token"])
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()
    new, attrs = set_cookie(r)
    assert new != old and "httponly" in attrs
    assert call("POST", "/api/auth/refresh", cookie=old,
                csrf=True).status_code == 401
    assert call("POST", "/api/auth/refresh", cookie=new,
                csrf=True).status_code == 200

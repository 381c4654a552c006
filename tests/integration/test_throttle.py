"""Login throttling per username and per client address: attempts
reserved before verification, one spelling of the login path, password
changes counted like logins, and a cap on an address's checks in flight."""
import concurrent.futures
import threading

import requests

from conftest import PORTS, Api, login, new_password, wait_for


def test_per_user_throttle(make_user):
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.3")
    for _ in range(5):
        r = api.post("/api/auth/login", {"username": user["username"],
                                         "password": "wrong-password"})
        assert r.status_code == 401
    # Now even the right password is refused until the window passes.
    r = api.post("/api/auth/login", {"username": user["username"],
                                     "password": pw})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # Other users are not affected.
    other, opw, _ = make_user("viewer")
    login(other["username"], opw, api)


def test_per_address_throttle(make_user):
    api = Api(source="127.0.0.4")
    for i in range(20):
        r = api.post("/api/auth/login", {"username": f"ghost-{i}",
                                         "password": "wrong-password"})
        assert r.status_code == 401, i
    user, pw, _ = make_user("viewer")
    r = api.post("/api/auth/login", {"username": user["username"],
                                     "password": pw})
    assert r.status_code == 429
    # The same user from another address is fine.
    login(user["username"], pw, Api(source="127.0.0.5"))


def test_success_resets_user_counter(make_user):
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.6")
    for _ in range(4):
        api.post("/api/auth/login", {"username": user["username"],
                                     "password": "wrong-password"})
    login(user["username"], pw, api)
    for _ in range(4):
        r = api.post("/api/auth/login", {"username": user["username"],
                                         "password": "wrong-password"})
        assert r.status_code == 401


def test_login_has_one_spelling(make_user):
    """Other spellings of the login path are 404 (or throttled by the
    gateway): none of them is a way around the gateway's limit."""
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.11")
    body = {"username": user["username"], "password": pw}
    for path in ("/api/auth/login/", "/api/auth//login", "/api/auth/login//",
                 "/api/auth/./login/", "/api/auth/login/.",
                 "/API/auth/login", "/api/auth/password/"):
        r = api.call("POST", path, json_body=body, check=False)
        assert r.status_code in (404, 429), (path, r.status_code)
    # The service itself knows only the one spelling.
    r = requests.post(f"http://127.0.0.1:{PORTS['auth']}/api/auth/login/",
                      json=body, timeout=10)
    assert r.status_code == 404
    login(user["username"], pw, api)


def test_concurrent_guesses_reserve_their_attempts(admin, make_user):
    """30 wrong guesses at once, each from its own address: no more than
    the per-user limit (5) reach password verification; the rest are
    refused before it."""
    user, _, _ = make_user("viewer")
    name = user["username"]
    n = 30
    start = threading.Barrier(n)

    def guess(i):
        api = Api(source=f"127.0.1.{i + 1}")
        start.wait()
        return api.post("/api/auth/login", {"username": name,
                                            "password": f"wrong-pass-{i}"})

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        codes = [r.status_code for r in ex.map(guess, range(n))]
    assert set(codes) <= {401, 429}, codes
    assert 1 <= codes.count(401) <= 5, codes
    # Each verified guess left one failure in the audit log: count them.
    def failures():
        items = admin.get("/api/audit", params={
            "actor": name, "action": "auth.login", "limit": "100"}).json()[
                "items"]
        return [e for e in items if e["result"] == "failure"]
    wait_for(lambda: len(failures()) == codes.count(401),
             what="audited failures")
    assert len(failures()) <= 5


def test_password_change_is_throttled_like_logins(make_user):
    """A stolen access token is no way to guess the password faster: wrong
    current passwords count as failed logins of the user."""
    user, pw, _ = make_user("viewer")
    api = Api(login(user["username"], pw, Api(source="127.0.0.12"))[
        "access_token"], source="127.0.0.12")
    for i in range(5):
        r = api.post("/api/auth/password", {
            "current_password": f"wrong-pass-{i}",
            "new_password": new_password()})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "wrong_password"
    r = api.post("/api/auth/password", {"current_password": pw,
                                        "new_password": new_password()})
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # The same secret: logging in is throttled too, from anywhere.
    r = Api(source="127.0.0.13").post("/api/auth/login", {
        "username": user["username"], "password": pw})
    assert r.status_code == 429


def test_concurrent_password_changes_reserve_their_attempts(make_user):
    user, pw, _ = make_user("viewer")
    token = login(user["username"], pw)["access_token"]
    n = 12
    start = threading.Barrier(n)

    def guess(i):
        api = Api(token, source=f"127.0.2.{i + 1}")
        start.wait()
        return api.post("/api/auth/password", {
            "current_password": f"wrong-pass-{i}",
            "new_password": new_password()}).status_code

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        codes = list(ex.map(guess, range(n)))
    assert set(codes) <= {400, 429}, codes
    assert 1 <= codes.count(400) <= 5, codes


def test_one_address_cannot_take_every_hashing_worker(make_user):
    """An address may run only a few password checks at once (2): the
    others are refused at once with 429 and Retry-After, and other
    addresses still log in meanwhile."""
    user, pw, _ = make_user("viewer")
    n = 12
    start = threading.Barrier(n + 1)

    def flood(i):
        api = Api(source="127.0.0.14")
        start.wait()
        return api.post("/api/auth/login", {"username": f"ghost-flood-{i}",
                                            "password": "wrong-password"})

    def other():
        api = Api(source="127.0.0.15")
        start.wait()
        return api.post("/api/auth/login", {"username": user["username"],
                                            "password": pw})

    with concurrent.futures.ThreadPoolExecutor(n + 1) as ex:
        floods = [ex.submit(flood, i) for i in range(n)]
        mine = ex.submit(other)
        results = [f.result() for f in floods]
        assert mine.result().status_code == 200
    codes = [r.status_code for r in results]
    assert set(codes) <= {401, 429}, codes
    capped = [r for r in results if r.status_code == 429]
    assert capped, codes
    assert codes.count(401) >= 1, codes
    for r in capped:
        assert r.json()["error"]["code"] == "too_many_requests"
        assert "in progress" in r.json()["error"]["message"]
        assert int(r.headers["Retry-After"]) >= 1

"""Login throttling per username and per client address."""
from conftest import Api, login, new_password


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

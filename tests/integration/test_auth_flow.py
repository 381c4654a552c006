"""Login, refresh rotation and reuse, logout, password change, profile."""
import time

from conftest import Api, login, new_password, redis


def test_login_returns_token_pair(make_user):
    user, pw, _ = make_user("viewer")
    t = login(user["username"], pw)
    assert t["token_type"] == "Bearer"
    assert t["expires_in"] == 900
    assert t["user"]["id"] == user["id"]
    assert not {"password", "password_hash"} & set(t["user"])
    assert t["user"]["last_login_at"] is not None


def test_login_is_case_insensitive_on_username(make_user):
    user, pw, _ = make_user("viewer")
    login(user["username"].upper(), pw)


def test_wrong_password_and_unknown_user_look_the_same():
    a = Api().post("/api/auth/login", {"username": "admin",
                                        "password": "not-the-password"})
    b = Api().post("/api/auth/login", {"username": "nobody-here",
                                        "password": "whatever-it-is"})
    assert a.status_code == b.status_code == 401
    assert a.json()["error"]["message"] == b.json()["error"]["message"]
    assert a.json()["error"]["code"] == "invalid_credentials"


def test_refresh_rotates_and_old_token_is_spent(make_user):
    user, pw, _ = make_user("operator")
    t1 = login(user["username"], pw)
    r = Api().post("/api/auth/refresh", {"refresh_token": t1["refresh_token"]})
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["refresh_token"] != t1["refresh_token"]
    assert t2["access_token"] != t1["access_token"]
    assert Api(t2["access_token"]).get("/api/auth/profile").status_code == 200


def test_refresh_reuse_revokes_the_whole_family(make_user):
    user, pw, _ = make_user("viewer")
    t1 = login(user["username"], pw)
    t2 = Api().post("/api/auth/refresh",
                    {"refresh_token": t1["refresh_token"]}).json()
    # The spent token comes back: a thief or a replay.
    r = Api().post("/api/auth/refresh", {"refresh_token": t1["refresh_token"]})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_reused"
    # The legitimate successor is dead too, and so is its access token.
    r = Api().post("/api/auth/refresh", {"refresh_token": t2["refresh_token"]})
    assert r.status_code == 401
    assert Api(t2["access_token"]).get("/api/auth/profile").status_code == 401
    # Another session of the same user is untouched.
    t3 = login(user["username"], pw)
    assert Api(t3["access_token"]).get("/api/auth/profile").status_code == 200


def test_refresh_with_garbage_token():
    r = Api().post("/api/auth/refresh", {"refresh_token": "nope"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"


def test_logout_revokes_access_and_refresh(make_user):
    user, pw, _ = make_user("viewer")
    t = login(user["username"], pw)
    api = Api(t["access_token"])
    assert api.get("/api/auth/profile").status_code == 200
    assert api.post("/api/auth/logout").status_code == 204
    r = api.get("/api/auth/profile")
    assert r.status_code == 401
    assert "revoked" in r.json()["error"]["message"]
    r = Api().post("/api/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 401
    # The deny-list entry expires with the token, not later.
    ttl = int(redis("TTL", f"osh:revoked:jti:{_jti(t['access_token'])}"))
    assert 0 < ttl <= 900 + 30


def _jti(token):
    import base64
    import json
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["jti"]


def test_logout_accepts_empty_json_object(make_user):
    user, pw, _ = make_user("viewer")
    api = Api(login(user["username"], pw)["access_token"])
    assert api.post("/api/auth/logout", {}).status_code == 204


def test_profile_get_and_patch(make_user):
    user, pw, api = make_user("operator")
    r = api.get("/api/auth/profile")
    assert r.json()["username"] == user["username"]
    r = api.patch("/api/auth/profile", {"display_name": "Ada Lovelace",
                                        "email": "ada@example.org"})
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Ada Lovelace"
    assert api.get("/api/auth/profile").json()["email"] == "ada@example.org"
    r = api.patch("/api/auth/profile", {"role": "admin"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "role"
    r = api.patch("/api/auth/profile", {"email": "not an email"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "email"


def test_password_change_ends_other_sessions(make_user):
    user, pw, _ = make_user("viewer")
    other = login(user["username"], pw)
    mine = login(user["username"], pw)
    api = Api(mine["access_token"])
    r = api.post("/api/auth/password", {"current_password": "wrong-one-x",
                                        "new_password": new_password()})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "current_password"
    r = api.post("/api/auth/password", {"current_password": pw,
                                        "new_password": "short"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "new_password"
    pw2 = new_password()
    r = api.post("/api/auth/password", {"current_password": pw,
                                        "new_password": pw2})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert Api(fresh["access_token"]).get("/api/auth/profile").status_code == 200
    assert Api(other["access_token"]).get("/api/auth/profile").status_code == 401
    r = Api().post("/api/auth/refresh", {"refresh_token": other["refresh_token"]})
    assert r.status_code == 401
    assert Api().post("/api/auth/login", {"username": user["username"],
                                          "password": pw}).status_code == 401
    login(user["username"], pw2)


def test_jwks_describes_the_signing_key():
    r = Api().get("/api/auth/jwks")
    assert r.status_code == 200
    key = r.json()["keys"][0]
    assert key["kty"] == "EC" and key["crv"] == "P-256"
    assert key["alg"] == "ES256"


def test_disabled_user_cannot_log_in_and_loses_sessions(admin, make_user):
    user, pw, api = make_user("operator")
    r = admin.patch(f"/api/users/{user['id']}", {"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get("/api/auth/profile").status_code == 401
    assert Api().post("/api/auth/login", {"username": user["username"],
                                          "password": pw}).status_code == 401
    admin.patch(f"/api/users/{user['id']}", {"active": True})
    login(user["username"], pw)

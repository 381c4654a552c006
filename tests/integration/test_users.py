"""User administration, and the last-admin rule."""
import time

from conftest import Api, login, new_password


def test_create_get_patch_delete(admin):
    pw = new_password()
    r = admin.post("/api/users", {"username": "crud-user", "password": pw,
                                  "role": "viewer", "email": "c@example.org"})
    assert r.status_code == 201
    u = r.json()
    assert u["role"] == "viewer" and u["active"] is True
    assert admin.get(f"/api/users/{u['id']}").json()["email"] == "c@example.org"
    r = admin.patch(f"/api/users/{u['id']}", {"role": "operator"})
    assert r.status_code == 200 and r.json()["role"] == "operator"
    assert login("crud-user", pw)["user"]["role"] == "operator"
    pw2 = new_password()
    r = admin.patch(f"/api/users/{u['id']}", {"password": pw2})
    assert r.status_code == 200
    login("crud-user", pw2)
    assert admin.delete(f"/api/users/{u['id']}").status_code == 204
    assert admin.get(f"/api/users/{u['id']}").status_code == 404
    assert Api().post("/api/auth/login", {"username": "crud-user",
                                          "password": pw2}).status_code == 401


def test_role_change_takes_effect_at_once(admin, make_user):
    user, pw, api = make_user("operator")
    admin.patch(f"/api/users/{user['id']}", {"role": "viewer"})
    # The old token carried "operator": it is revoked, not trusted.
    assert api.get("/api/auth/profile").status_code == 401
    assert login(user["username"], pw)["user"]["role"] == "viewer"


def test_filters(admin):
    r = admin.get("/api/users", params={"role": "admin"})
    assert all(u["role"] == "admin" for u in r.json()["items"])
    r = admin.get("/api/users", params={"q": "ADMIN"})
    assert any(u["username"] == "admin" for u in r.json()["items"])


def test_last_admin_cannot_be_removed(admin, admin_password):
    admins = admin.get("/api/users", params={"role": "admin",
                                             "active": "true"}).json()
    me = admin.get("/api/auth/profile").json()
    # Demote every other admin so that "admin" is the last one.
    others = [u for u in admins["items"] if u["id"] != me["id"]]
    for u in others:
        assert admin.patch(f"/api/users/{u['id']}",
                           {"role": "operator"}).status_code == 200
    r = admin.patch(f"/api/users/{me['id']}", {"role": "viewer"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "last_admin"
    assert r.json()["error"]["field"] == "role"
    r = admin.patch(f"/api/users/{me['id']}", {"active": False})
    assert r.status_code == 409 and r.json()["error"]["field"] == "active"
    # Deleting yourself is refused outright.
    r = admin.delete(f"/api/users/{me['id']}")
    assert r.status_code == 409
    # With a second admin, the first one may step down; then that second
    # admin is the last one and cannot be deleted by anyone.
    pw = new_password()
    second = admin.post("/api/users", {"username": "second-admin",
                                       "password": pw, "role": "admin"}).json()
    a2 = Api(login("second-admin", pw)["access_token"])
    r = a2.patch(f"/api/users/{me['id']}", {"role": "operator"})
    assert r.status_code == 200
    r = a2.patch(f"/api/users/{second['id']}", {"role": "viewer"})
    assert r.status_code == 409
    # Restore: the original admin is admin again.
    assert a2.patch(f"/api/users/{me['id']}",
                    {"role": "admin"}).status_code == 200
    # Those role changes ended the shared admin session: start a new one.
    admin.token = login("admin", admin_password)["access_token"]
    assert admin.get("/api/users").status_code == 200


def test_first_admin_password_follows_the_password_rule(tmp_path):
    """A bootstrap password shorter than any user may have stops osh-auth
    at start, naming the variable and not the password."""
    import os
    import socket
    import subprocess

    from conftest import PG_PORT, RUN, TOP
    weak = tmp_path / "weak"
    weak.write_text("short-pw\n")
    weak.chmod(0o600)
    binary = TOP / os.environ.get("BUILD", "build") / "osh-auth"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = (f'. "{RUN}/env"; export OSH_PORT={port} OSH_LISTEN_UNIX= '
              f'OSH_DB_CONNINFO="host=127.0.0.1 port={PG_PORT} dbname=osh '
              f'user=osh_auth" OSH_DB_PASSWORD_FILE="{RUN}/secrets/'
              f'db-auth-password" OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE="{weak}"; '
              f'exec "{binary}"')
    out = subprocess.run(["sh", "-c", script], capture_output=True,
                         text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode != 0
    log = out.stdout + out.stderr
    assert "OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE must be at least 10" in log, log
    assert "short-pw" not in log

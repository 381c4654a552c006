"""Audit entries for every action, searchable and exportable, and no
secret anywhere: not in audit entries, responses, logs or the database."""
import csv
import io

from conftest import Api, RUN, login, logs, new_password, psql, wait_for


def entries(admin, **params):
    return admin.get("/api/audit", params=params).json()["items"]


def test_actions_are_audited(admin, make_user):
    pw = new_password()
    u = admin.post("/api/users", {"username": "audited-user", "password": pw,
                                  "role": "viewer"}).json()
    target = f"user:{u['id']}"
    t = login("audited-user", pw)
    Api().post("/api/auth/login", {"username": "audited-user",
                                    "password": "wrong-password"})
    api = Api(t["access_token"])
    api.patch("/api/auth/profile", {"display_name": "Aud"})
    pw2 = new_password()
    api.post("/api/auth/password", {"current_password": pw,
                                    "new_password": pw2})
    admin.patch(f"/api/users/{u['id']}", {"role": "operator",
                                          "password": new_password()})
    admin.delete(f"/api/users/{u['id']}")

    want = {("user.create", "success"), ("auth.login", "success"),
            ("auth.login", "failure"), ("profile.update", "success"),
            ("auth.password_change", "success"), ("user.update", "success"),
            ("user.delete", "success")}

    def seen():
        got = {(e["action"], e["result"])
               for e in entries(admin, target=target, limit="100")}
        return want <= got and got
    got = wait_for(seen, what="audit entries")
    rows = entries(admin, target=target, limit="100")
    for e in rows:
        assert e["client"] and e["service"] == "auth"
        assert e["request_id"]
    create = [e for e in rows if e["action"] == "user.create"][0]
    assert create["actor"] == "admin"
    upd = [e for e in rows if e["action"] == "user.update"][0]
    assert set(upd["details"]["fields"]) == {"role", "password"}
    fail = [e for e in rows if e["result"] == "failure"][0]
    assert fail["details"]["reason"] == "wrong password"


def test_audit_filters_and_time_range(admin):
    r = admin.get("/api/audit", params={"action": "auth.login",
                                        "since": "2000-01-01T00:00:00Z",
                                        "until": "2100-01-01T00:00:00Z",
                                        "limit": "5", "sort": "-id"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert items and all(e["action"] == "auth.login" for e in items)
    assert [e["id"] for e in items] == sorted([e["id"] for e in items],
                                              reverse=True)
    r = admin.get("/api/audit", params={"since": "yesterday"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "since"
    r = admin.get("/api/audit", params={"since": "2100-01-01T00:00:00Z"})
    assert r.json()["items"] == [] and r.json()["total"] == 0


def test_csv_export(admin):
    admin.post("/api/users", {"username": "=cmd|calc", "password": new_password(),
                              "role": "viewer"})
    r = admin.get("/api/audit/export.csv", params={"action": "auth.login"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["id", "ts", "service"]
    assert len(rows) > 1 and all(row[5] == "auth.login" for row in rows[1:])
    r = admin.get("/api/audit/export.csv", params={"actor": "=cmd|calc"})
    assert "=cmd" not in r.text.replace("'=cmd", "")


def test_no_secret_leaks(admin, admin_password):
    pw = "Secret-" + new_password()
    u = admin.post("/api/users", {"username": "leak-check", "password": pw,
                                  "role": "viewer"})
    assert pw not in u.text
    t = login("leak-check", pw)
    Api().post("/api/auth/login", {"username": "leak-check",
                                    "password": pw + "-wrong"})
    api = Api(t["access_token"])
    pw2 = "Secret-" + new_password()
    api.post("/api/auth/password", {"current_password": pw,
                                    "new_password": pw2})
    wait_for(lambda: entries(admin, actor="leak-check",
                             action="auth.password_change"),
             what="password change audit")
    secrets_ = [pw, pw2, admin_password, t["refresh_token"],
                t["access_token"],
                (RUN / "secrets" / "db-password").read_text().strip(),
                (RUN / "secrets" / "redis-password").read_text().strip()]
    dump = admin.get("/api/audit/export.csv").text
    all_logs = logs("auth") + (RUN / "logs" / "nginx-access.log").read_text()
    stored = psql("SELECT string_agg(u::text, '') FROM auth.users u") + \
        psql("SELECT string_agg(t::text, '') FROM auth.refresh_tokens t")
    for s in secrets_:
        assert s not in dump
        assert s not in all_logs
        assert s not in stored
    # Passwords are argon2id hashes, refresh tokens are stored hashed.
    assert psql("SELECT password_hash FROM auth.users WHERE "
                "username = 'leak-check'").startswith("$argon2id$")

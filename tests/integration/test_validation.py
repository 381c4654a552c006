"""Bad input gets a clear error naming the field, and loses nothing."""
import json

import pytest

from conftest import Api, login, new_password, psql


def test_malformed_json(admin):
    r = admin.post("/api/users", data='{"username": "x",', check=True,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_trailing_garbage(admin):
    r = admin.call("POST", "/api/users", data='{} {}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_body_must_be_an_object(admin):
    r = admin.post("/api/users", ["a", "b"])
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "validation_failed"


def test_unknown_field_is_named(admin):
    r = admin.post("/api/users", {"username": "u1", "password": new_password(),
                                  "role": "viewer", "is_admin": True})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "is_admin"
    assert "unknown field" in r.json()["error"]["message"]


@pytest.mark.parametrize("field,value", [
    ("username", 42), ("password", ["x"]), ("role", "root"),
    ("active", "yes"), ("display_name", None), ("email", 3.5),
])
def test_wrong_types_are_named(admin, field, value):
    body = {"username": "typed-user", "password": new_password(),
            "role": "viewer"}
    body[field] = value
    r = admin.post("/api/users", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_missing_required_field(admin):
    r = admin.post("/api/users", {"username": "nobody1", "role": "viewer"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "password"


def test_deep_nesting_is_refused(admin):
    deep = "[" * 100 + "]" * 100
    r = admin.call("POST", "/api/users", data='{"username": %s}' % deep,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_oversized_body_service_limit():
    body = json.dumps({"username": "a" * 5000, "password": "b"})
    r = Api().call("POST", "/api/auth/login", data=body,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_oversized_body_gateway_limit():
    r = Api().call("POST", "/api/auth/login", data="x" * (3 << 20),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_wrong_content_type():
    r = Api().call("POST", "/api/auth/login", data="username=a&password=b",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_invalid_utf8_is_refused():
    r = Api().call("POST", "/api/auth/login",
                   data=b'{"username": "\xff\xfe", "password": "x"}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_nul_in_string_is_refused(admin):
    r = admin.call("POST", "/api/users",
                   data='{"username": "a\\u0000b", "password": "xxxxxxxxxxxx",'
                        ' "role": "viewer"}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "username"


def test_odd_unicode_and_sql_are_stored_literally(admin):
    name = "Ünïcødé 🚀 \u202e'; DROP TABLE users; --"
    r = admin.post("/api/users", {"username": "lit-user-1",
                                  "password": new_password(),
                                  "role": "viewer", "display_name": name,
                                  "email": "o'brien@example.org"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    got = admin.get(f"/api/users/{uid}").json()
    assert got["display_name"] == name
    assert got["email"] == "o'brien@example.org"
    assert psql("SELECT count(*) FROM auth.users") != "0"
    r = admin.get("/api/users", params={"q": "'; DROP"})
    assert r.status_code == 200
    assert any(u["id"] == uid for u in r.json()["items"])


def test_username_rules(admin):
    r = admin.post("/api/users", {"username": "has space",
                                  "password": new_password(), "role": "viewer"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "username"


def test_duplicate_username_conflicts(admin):
    body = {"username": "dup-user-1", "password": new_password(),
            "role": "viewer"}
    assert admin.post("/api/users", body).status_code == 201
    body["username"] = "DUP-user-1"
    r = admin.post("/api/users", body)
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "username"


def test_list_parameters_are_checked(admin):
    for params, field in [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                          ({"offset": "-1"}, "offset"),
                          ({"sort": "password_hash"}, "sort"),
                          ({"role": "root"}, "role"),
                          ({"active": "maybe"}, "active"),
                          ({"bogus": "1"}, "bogus")]:
        r = admin.get("/api/users", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]["field"] == field


def test_list_paging_and_sorting(admin):
    r = admin.get("/api/users", params={"limit": "2", "sort": "-id"})
    body = r.json()
    assert len(body["items"]) <= 2
    assert body["total"] >= len(body["items"])
    ids = [u["id"] for u in body["items"]]
    assert ids == sorted(ids, reverse=True)
    far = admin.get("/api/users", params={"offset": "100000"}).json()
    assert far["items"] == [] and far["total"] == body["total"]


def test_bad_path_id(admin):
    assert admin.get("/api/users/abc").status_code == 404
    assert admin.get("/api/users/-1").status_code == 404


def test_method_not_allowed(admin):
    r = admin.call("PUT", "/api/users", json_body={}, check=False)
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]


def test_failed_create_loses_nothing(admin):
    before = admin.get("/api/users").json()["total"]
    admin.post("/api/users", {"username": "zz", "role": "nope"})
    assert admin.get("/api/users").json()["total"] == before

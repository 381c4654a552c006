"""Every role against every auth, user, cluster and metrics endpoint:
allowed or 403."""
import pytest

from conftest import Api, login

MISSING = 99999999

# (method, path, body, roles allowed). Bodies are harmless: an allowed
# call fails validation or finds nothing, but never changes anything.
ENDPOINTS = [
    ("GET", "/api/auth/profile", None, {"admin", "operator", "viewer"}),
    ("PATCH", "/api/auth/profile", {"bogus": 1}, {"admin", "operator", "viewer"}),
    ("POST", "/api/auth/password", {"current_password": "x"},
     {"admin", "operator", "viewer"}),
    ("GET", "/api/users", None, {"admin"}),
    ("POST", "/api/users", {"username": ""}, {"admin"}),
    ("GET", f"/api/users/{MISSING}", None, {"admin"}),
    ("PATCH", f"/api/users/{MISSING}", {"display_name": "x"}, {"admin"}),
    ("DELETE", f"/api/users/{MISSING}", None, {"admin"}),
    ("GET", "/api/audit", None, {"admin"}),
    ("GET", "/api/audit/export.csv?actor=nobody", None, {"admin"}),
    ("GET", "/api/clusters", None, {"admin", "operator", "viewer"}),
    ("POST", "/api/clusters", {"name": ""}, {"admin", "operator"}),
    ("GET", f"/api/clusters/{MISSING}", None,
     {"admin", "operator", "viewer"}),
    ("PATCH", f"/api/clusters/{MISSING}", {"name": "x"},
     {"admin", "operator"}),
    ("DELETE", f"/api/clusters/{MISSING}", None, {"admin", "operator"}),
    ("GET", f"/api/clusters/{MISSING}/servers", None,
     {"admin", "operator", "viewer"}),
    ("POST", f"/api/clusters/{MISSING}/servers", {"server_ids": [1]},
     {"admin", "operator"}),
    ("DELETE", f"/api/clusters/{MISSING}/servers", {"server_ids": [1]},
     {"admin", "operator"}),
    # The metrics API: refused parameters, so Prometheus is not asked.
    ("GET", f"/api/monitoring/servers/{MISSING}/metrics?name=x", None,
     {"admin", "operator", "viewer"}),
    ("GET", "/api/monitoring/fleet/hottest?n=0", None,
     {"admin", "operator", "viewer"}),
    ("GET", "/api/monitoring/fleet/power?by=x", None,
     {"admin", "operator", "viewer"}),
    ("POST", "/api/monitoring/query", {}, {"admin"}),
]


@pytest.fixture(scope="module")
def apis(admin, operator, viewer):
    return {"admin": admin, "operator": operator, "viewer": viewer}


@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_role_matrix(apis, role, method, path, body, allowed):
    r = apis[role].call(method, path, json_body=body)
    if role in allowed:
        assert r.status_code != 403, r.text
        assert r.status_code < 500, r.text
    else:
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_no_token_is_401(method, path, body, allowed):
    r = Api().call(method, path, json_body=body)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_logout_allowed_for_every_role(make_user):
    for role in ("admin", "operator", "viewer"):
        _, _, api = make_user(role)
        assert api.post("/api/auth/logout").status_code == 204


def test_public_endpoints_need_no_token():
    assert Api().get("/api/auth/jwks").status_code == 200
    assert Api().post("/api/auth/login", {"username": "x",
                                          "password": "y"}).status_code == 401

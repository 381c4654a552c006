"""Every endpoint that takes a JSON body, fed JSON that is not an object
(and objects of the wrong shape): a clear 400 naming what is wrong, the
answer documented in openapi.yaml, and every service still up afterwards.
An array body once crashed server-mgmt in two places."""
import pytest
import requests

from conftest import OPENAPI, PORTS

BODIES = ['[1,2]', '[]', '"x"', '3', '-1.5', 'null', 'true',
          '{"a":{"b":[{"c":1}]}}', '{"":1}', '{"name":[{"x":null}]}']


def json_operations():
    for tmpl, ops in OPENAPI.spec["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "requestBody" not in op:
                continue
            if "application/json" in op["requestBody"].get("content", {}):
                yield method.upper(), tmpl


def path_of(tmpl, ids):
    for name, value in ids.items():
        tmpl = tmpl.replace("{" + name + "}", str(value))
    return tmpl


@pytest.fixture(scope="module")
def ids(admin, make_user):
    servers = admin.get("/api/servers").json()["items"]
    assert servers, "the stack registers simulated servers"
    user, _, _ = make_user("viewer")
    return {"id": servers[0]["id"], "user": user}


@pytest.mark.parametrize("method,tmpl", sorted(set(json_operations())))
def test_non_object_bodies_are_refused(admin, ids, method, tmpl):
    if tmpl.startswith("/api/users/"):
        path = path_of(tmpl, {"id": ids["user"]["id"]})
    else:
        path = path_of(tmpl, ids)
    for body in BODIES:
        r = admin.call(method, path, data=body,
                       headers={"Content-Type": "application/json"})
        if tmpl == "/api/servers/import" and body.startswith("["):
            # A list of rows is what import takes: one error per row.
            assert r.status_code == 200, r.text
            assert r.json()["created"] == 0
            continue
        assert r.status_code in (400, 404), (method, path, body, r.text)
        err = r.json()["error"]
        if r.status_code == 400:
            assert err["code"] in ("validation_failed", "invalid_json")
            assert err["message"]
    for service, port in PORTS.items():
        h = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert h.status_code == 200, f"{service} is down after {path}"

"""Server records: create, validate, list, change, delete; credentials are
write-only; events and audit entries follow every change."""
import json

import pytest

from conftest import (FLEET_PORT, RUN, Api, logs, psql, server_body,
                      wait_for)


def test_create_read_update_delete(admin, fleet, events):
    r = admin.post("/api/servers", server_body(
        FLEET_PORT, name="crud-1", labels={"rack": "r1", "role": "web"},
        description="first", cluster="prod"))
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["bmc_address"] == f"127.0.0.1:{FLEET_PORT}"
    assert s["has_credentials"] is True
    assert s["workarounds"] == ["opensesspriv"]
    assert s["labels"] == {"rack": "r1", "role": "web"}
    events.wait(lambda e: e["type"] == "server.created" and
                e["data"]["id"] == s["id"])
    got = admin.get(f"/api/servers/{s['id']}").json()
    assert got["name"] == "crud-1" and got["cluster"] == "prod"
    r = admin.patch(f"/api/servers/{s['id']}", {"description": "second",
                                                 "cluster": None,
                                                 "monitoring": False})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "second"
    assert r.json()["cluster"] is None and r.json()["monitoring"] is False
    events.wait(lambda e: e["type"] == "server.updated" and
                e["data"]["id"] == s["id"])
    assert admin.delete(f"/api/servers/{s['id']}").status_code == 204
    assert admin.get(f"/api/servers/{s['id']}").status_code == 404
    events.wait(lambda e: e["type"] == "server.deleted" and
                e["data"]["id"] == s["id"])


@pytest.mark.parametrize("addr", ["", "host:0", "host:70000", "a b",
                                  "[::1", "[]:623", "-bad.example",
                                  "x" * 300, "host:12ab"])
def test_bad_addresses(admin, addr):
    r = admin.post("/api/servers", {"name": "bad-addr", "bmc_address": addr})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "bmc_address"


@pytest.mark.parametrize("addr,shown", [
    ("10.1.2.3", "10.1.2.3"), ("10.1.2.4:6230", "10.1.2.4:6230"),
    ("bmc-7.example.org", "bmc-7.example.org"),
    ("fd00::7", "[fd00::7]"), ("[fd00::8]:1623", "[fd00::8]:1623")])
def test_address_forms(admin, addr, shown):
    r = admin.post("/api/servers", {"name": f"addr-{shown}",
                                    "bmc_address": addr})
    assert r.status_code == 201, r.text
    assert r.json()["bmc_address"] == shown
    assert r.json()["has_credentials"] is False
    admin.delete(f"/api/servers/{r.json()['id']}")


@pytest.mark.parametrize("body,field", [
    ({"bmc_address": "10.0.0.1"}, "name"),
    ({"name": "x"}, "bmc_address"),
    ({"name": "x", "bmc_address": "10.0.0.1", "ipmi_version": "3.0"},
     "ipmi_version"),
    ({"name": "x", "bmc_address": "10.0.0.1", "cipher_suite": 99},
     "cipher_suite"),
    ({"name": "x", "bmc_address": "10.0.0.1", "workarounds": ["nope"]},
     "workarounds"),
    ({"name": "x", "bmc_address": "10.0.0.1", "labels": {"1bad": "v"}},
     "labels"),
    ({"name": "x", "bmc_address": "10.0.0.1", "labels": {"k": 5}}, "labels"),
    ({"name": "x", "bmc_address": "10.0.0.1", "serial": "s"}, "serial"),
    ({"name": "x", "bmc_address": "10.0.0.1",
      "credentials": {"username": "u"}}, "credentials.password"),
    ({"name": "x", "bmc_address": "10.0.0.1",
      "credentials": {"username": "u" * 17, "password": "p"}},
     "credentials.username"),
    ({"name": "a/b", "bmc_address": "10.0.0.1"}, "name"),
])
def test_validation_names_the_field(admin, body, field):
    r = admin.post("/api/servers", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_duplicates_conflict(admin):
    a = admin.post("/api/servers", {"name": "dup-a", "bmc_address":
                                    "10.9.9.9:623"})
    assert a.status_code == 201
    r = admin.post("/api/servers", {"name": "DUP-A", "bmc_address":
                                    "10.9.9.10"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"
    r = admin.post("/api/servers", {"name": "dup-b", "bmc_address":
                                    "10.9.9.9"})
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "bmc_address"
    admin.delete(f"/api/servers/{a.json()['id']}")


def test_list_filters_paging_sort(admin):
    ids = []
    for i, (rack, cl) in enumerate([("r1", "a"), ("r1", "b"), ("r2", "a")]):
        r = admin.post("/api/servers", {
            "name": f"flt-{i}", "bmc_address": f"10.7.0.{i + 1}",
            "labels": {"rack": rack}, "cluster": cl})
        ids.append(r.json()["id"])
    r = admin.get("/api/servers", params={"label": "rack=r1",
                                          "name": "flt-"})
    assert {s["id"] for s in r.json()["items"]} == set(ids[:2])
    r = admin.get("/api/servers", params={"cluster": "a", "name": "flt-"})
    assert {s["id"] for s in r.json()["items"]} == {ids[0], ids[2]}
    r = admin.get("/api/servers", params={"name": "flt-", "sort": "-name",
                                          "limit": "2"})
    names = [s["name"] for s in r.json()["items"]]
    assert names == ["flt-2", "flt-1"] and r.json()["total"] == 3
    r = admin.get("/api/servers", params={"status": "unknown",
                                          "name": "flt-"})
    assert r.json()["total"] == 3
    for bad in ({"status": "sleeping"}, {"power_state": "maybe"},
                {"sort": "credentials"}, {"label": "norack"},
                {"limit": "0"}, {"colour": "red"}):
        assert admin.get("/api/servers", params=bad).status_code == 400, bad
    for i in ids:
        admin.delete(f"/api/servers/{i}")


def test_credentials_are_write_only_and_sealed(admin, fleet):
    pw = "Sealed-Pw-77"
    r = admin.post("/api/servers", {"name": "sealed-1",
                                    "bmc_address": "10.8.0.1",
                                    "credentials": {"username": "bmcuser9",
                                                    "password": pw}})
    sid = r.json()["id"]
    assert pw not in r.text and "bmcuser9" not in r.text
    r = admin.put(f"/api/servers/{sid}/credentials",
                  {"username": "bmcuser9", "password": pw + "x"})
    assert r.status_code == 200 and pw not in r.text
    r = admin.put(f"/api/servers/{sid}/credentials", {"username": "u"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "password"
    for path in ("/api/servers", f"/api/servers/{sid}"):
        assert pw not in admin.get(path).text
    stored = psql(f"SELECT credentials FROM server_mgmt.servers "
                  f"WHERE id = {sid}")
    assert stored.startswith("k1:") and pw not in stored
    assert "bmcuser9" not in stored
    wait_for(lambda: admin.get("/api/audit", params={
        "action": "server.credentials", "target": f"server:{sid}"}).json()[
        "items"], what="audit entry")
    audit = admin.get("/api/audit/export.csv").text
    everything = audit + logs("server-mgmt") + logs("auth") + \
        (RUN / "logs" / "nginx-access.log").read_text()
    assert pw not in everything and "bmcuser9" not in everything
    admin.delete(f"/api/servers/{sid}")


def test_stats(admin, fleet):
    r = admin.get("/api/servers/stats")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 3
    assert sum(body["by_status"].values()) == body["total"]
    assert sum(body["by_power_state"].values()) == body["total"]


def test_permissions(admin, operator, viewer):
    r = viewer.post("/api/servers", {"name": "v1", "bmc_address": "10.6.0.1"})
    assert r.status_code == 403
    r = operator.post("/api/servers", {"name": "o1",
                                       "bmc_address": "10.6.0.2"})
    assert r.status_code == 201
    sid = r.json()["id"]
    assert viewer.get(f"/api/servers/{sid}").status_code == 200
    assert viewer.patch(f"/api/servers/{sid}", {"description": "x"}) \
        .status_code == 403
    assert operator.patch(f"/api/servers/{sid}", {"description": "x"}) \
        .status_code == 200
    assert viewer.post(f"/api/servers/{sid}/power", {"action": "on"}) \
        .status_code == 403
    assert viewer.delete(f"/api/servers/{sid}/sel").status_code == 403
    assert viewer.post("/api/discovery/scans", {"range": "127.0.0.1"}) \
        .status_code == 403
    assert operator.delete(f"/api/servers/{sid}").status_code == 403
    assert admin.delete(f"/api/servers/{sid}").status_code == 204

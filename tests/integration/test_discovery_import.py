"""Discovery scans over loopback, importing what they found, and bulk
import from CSV and JSON."""
import csv
import io

import pytest

from conftest import (FLEET_PORT, FLEET_COUNT, IPMI15_PORT, NOTHING_PORT,
                      OTHERCREDS_PORT, SILENT_PORT, psql, wait_for)
from legacy_seal import seal


def scan(api, body):
    r = api.post("/api/discovery/scans", body)
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    assert r.headers["Location"] == f"/api/discovery/scans/{sid}"
    s = wait_for(lambda: (lambda s: s if s["status"] == "done" else None)(
        api.get(f"/api/discovery/scans/{sid}").json()), timeout=30,
        what="scan done")
    # A scan is done only once every finding is written: a client that
    # sees "done" sees them all.
    assert len(s["results"]) == s["found"], s
    return s


def test_scan_finds_bmcs_not_silent_ports(operator, fleet):
    ports = list(range(FLEET_PORT, FLEET_PORT + FLEET_COUNT)) + \
        [SILENT_PORT, OTHERCREDS_PORT, IPMI15_PORT, NOTHING_PORT]
    s = scan(operator, {"range": "127.0.0.1", "port": ports,
                        "workarounds": ["opensesspriv"],
                        "credentials": [{"username": "nobody",
                                         "password": "x"},
                                        {"username": "admin",
                                         "password": "secret"}]})
    assert s["total"] == len(ports) and s["probed"] == len(ports)
    found = {r["bmc_address"]: r for r in s["results"]}
    assert f"127.0.0.1:{SILENT_PORT}" not in found
    assert f"127.0.0.1:{NOTHING_PORT}" not in found
    for p in range(FLEET_PORT, FLEET_PORT + FLEET_COUNT):
        r = found[f"127.0.0.1:{p}"]
        assert r["credentials_ok"] is True
        assert r["ipmi_versions"] == ["1.5", "2.0"]
        assert r["manufacturer_id"] in (674, 11, 19046, 10876)
        assert r["product"]
        assert "md5" in r["auth_types"]
    assert found[f"127.0.0.1:{IPMI15_PORT}"]["ipmi_versions"] == ["1.5"]
    assert found[f"127.0.0.1:{OTHERCREDS_PORT}"]["credentials_ok"] is False
    assert "password" not in str(s) and "secret" not in str(s)


@pytest.mark.parametrize("extra", [
    {"credentials": [{"username": "admin", "password": "wrong"}],
     "workarounds": ["opensesspriv"]},
    # What a newcomer sends first: the right password, no workaround.
    {"credentials": [{"username": "admin", "password": "secret"}]},
])
def test_scan_whose_credentials_fail(operator, fleet, extra):
    """Credentials that fail on a BMC are a result, not a crash (the
    engine once freed the session under itself when the scan forgot it
    from its callback)."""
    for _ in range(3):
        s = scan(operator, {"range": "127.0.0.1", "port": FLEET_PORT,
                            **extra})
        assert s["found"] == 1, s
        assert s["results"][0]["credentials_ok"] is False
    assert operator.get("/api/servers").status_code == 200


def test_scan_import(operator, admin, fleet):
    s = scan(operator, {"range": "127.0.0.1",
                        "port": f"{FLEET_PORT + 3}-{FLEET_PORT + 4}",
                        "workarounds": ["opensesspriv"],
                        "credentials": [{"username": "admin",
                                         "password": "secret"}]})
    ids = [r["id"] for r in s["results"]]
    r = operator.post(f"/api/discovery/scans/{s['id']}/import",
                      {"results": ids})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2, r.text
    made = [x["id"] for x in r.json()["rows"]]
    for sid in made:
        srv = admin.get(f"/api/servers/{sid}").json()
        assert srv["has_credentials"] is True
        # The imported server works: the credentials came along.
        assert admin.get(f"/api/servers/{sid}/power").status_code == 200
    after = operator.get(f"/api/discovery/scans/{s['id']}").json()
    assert all(x["imported_server_id"] in made for x in after["results"])
    for sid in made:
        admin.delete(f"/api/servers/{sid}")


def test_scan_results_whose_credentials_do_not_open(operator, admin, fleet):
    """A result sealed by a release before the binding to its address
    ("scan:<id>") no longer opens: its row is refused with a word on what
    to do, never imported without its credentials."""
    port = FLEET_PORT + 1
    s = scan(operator, {"range": "127.0.0.1", "port": port,
                        "workarounds": ["opensesspriv"],
                        "credentials": [{"username": "admin",
                                         "password": "secret"}]})
    rid = s["results"][0]["id"]
    assert s["results"][0]["credentials_ok"] is True
    old = seal(f"scan:{s['id']}", "admin", "secret")
    psql(f"UPDATE server_mgmt.scan_results SET credentials = '{old}' "
         f"WHERE id = {rid}")
    r = operator.post(f"/api/discovery/scans/{s['id']}/import?"
                      f"name_prefix=old-scan", {"results": [rid]})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0 and r.json()["failed"] == 1, r.text
    err = r.json()["rows"][0]["error"]
    assert err["code"] == "credentials_unreadable"
    assert err["message"] == \
        "credentials of this scan result cannot be opened; scan again"
    assert admin.get("/api/servers", params={"name": "old-scan"}) \
        .json()["total"] == 0
    assert operator.get(f"/api/discovery/scans/{s['id']}").json()[
        "results"][0]["imported_server_id"] is None
    # Scanning again gives a result that imports, credentials and all.
    s = scan(operator, {"range": "127.0.0.1", "port": port,
                        "workarounds": ["opensesspriv"],
                        "credentials": [{"username": "admin",
                                         "password": "secret"}]})
    r = operator.post(f"/api/discovery/scans/{s['id']}/import?"
                      f"name_prefix=new-scan", {})
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    made = r.json()["rows"][0]["id"]
    assert admin.get(f"/api/servers/{made}/power").status_code == 200
    admin.delete(f"/api/servers/{made}")


def test_scan_import_input(operator):
    for body, query, field in [({"results": ["1"]}, "", "results"),
                               ({"results": [0]}, "", "results"),
                               ({"results": [2 ** 64 - 1]}, "", "results"),
                               ({"results": []}, "", "results"),
                               ({}, "?name_prefix=a/b", "name_prefix"),
                               ({}, "?name_prefix=%0a", "name_prefix"),
                               ({}, "?name_prefix=" + "x" * 33,
                                "name_prefix"),
                               ({}, "?prefix=x", "prefix")]:
        r = operator.post(f"/api/discovery/scans/1/import{query}", body)
        assert r.status_code == 400, (body, query, r.text)
        assert r.json()["error"]["field"] == field


def test_json_import_of_many_bad_rows(operator):
    """Rows refused at once are answered in a loop: thousands of them
    once nested a call each."""
    r = operator.post("/api/servers/import",
                      [{"name": f"bad-{i}"} for i in range(5000)])
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0 and r.json()["failed"] == 5000
    assert all(x["error"]["field"] == "bmc_address"
               for x in r.json()["rows"])


def test_scan_validation(operator):
    for body, field in [({"range": "10.0.0.0/8"}, "range"),
                        ({"range": "banana"}, "range"),
                        ({"range": "10.0.0.5-10.0.0.1"}, "range"),
                        ({"range": "127.0.0.1", "port": "9-1"}, "port"),
                        ({"range": "127.0.0.1", "port": 70000}, "port"),
                        ({"range": "127.0.0.1", "credentials": [{}] * 6},
                         "credentials"),
                        ({"range": "127.0.0.1", "guess": True}, "guess")]:
        r = operator.post("/api/discovery/scans", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] == field
    assert operator.get("/api/discovery/scans/999999").status_code == 404


def test_csv_import_reports_bad_rows(admin, operator):
    t = operator.get("/api/servers/import/template.csv")
    assert t.status_code == 200 and t.headers["Content-Type"].startswith(
        "text/csv")
    header = next(csv.reader(io.StringIO(t.text)))
    assert header[:4] == ["name", "bmc_address", "username", "password"]
    body = ("name,bmc_address,username,password,labels,monitoring\r\n"
            "csv-ok,10.4.0.1,admin,pw,rack=r9;role=db,true\r\n"
            "csv-bad-addr,not an address,,,,\r\n"
            "csv-ok,10.4.0.2,,,,\r\n"
            '"csv, quoted",10.4.0.3,,,,false\r\n'
            "csv-bad-mon,10.4.0.4,,,,perhaps\r\n")
    r = operator.call("POST", "/api/servers/import", data=body,
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["created"] == 2 and res["failed"] == 3
    rows = res["rows"]
    assert rows[0]["status"] == "created"
    assert rows[1]["error"]["field"] == "bmc_address"
    assert rows[2]["error"]["field"] == "name"  # duplicate in the file
    assert rows[3]["status"] == "created"
    assert rows[4]["error"]["field"] == "monitoring"
    ok = admin.get(f"/api/servers/{rows[0]['id']}").json()
    assert ok["labels"] == {"rack": "r9", "role": "db"}
    assert ok["has_credentials"] is True
    assert admin.get(f"/api/servers/{rows[3]['id']}").json()["name"] == \
        "csv, quoted"
    for row in rows:
        if row["status"] == "created":
            admin.delete(f"/api/servers/{row['id']}")


def test_csv_import_dry_run_writes_nothing(admin, operator):
    """?dry_run=true checks every row as the import would (fields, names
    and addresses taken by a server or an earlier row) and writes
    nothing: no server, no audit entry; the same file then imports."""
    taken = operator.post("/api/servers", {"name": "dry-taken",
                                           "bmc_address": "10.5.0.1"})
    assert taken.status_code == 201, taken.text
    before = psql("SELECT count(*) FROM server_mgmt.servers")
    body = ("name,bmc_address,username,password\r\n"
            "dry-ok-1,10.5.0.10,admin,pw-secret-1\r\n"
            "dry-taken,10.5.0.11,,\r\n"
            "dry-addr,10.5.0.1,,\r\n"
            "dry-bad,not an address,,\r\n"
            "DRY-OK-1,10.5.0.12,,\r\n"
            "dry-ok-2,10.5.0.10,,\r\n"
            "dry-ok-3,10.5.0.13,,\r\n")
    r = operator.call("POST", "/api/servers/import", data=body,
                      params={"dry_run": "true"},
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["dry_run"] is True and res["created"] == 0
    assert res["valid"] == 2 and res["failed"] == 5, res
    st = [(x["status"], x.get("error", {}).get("code")) for x in res["rows"]]
    assert st == [("valid", None), ("error", "name_taken"),
                  ("error", "bmc_address_taken"),
                  ("error", "validation_failed"),
                  ("error", "name_taken"),         # an earlier row's name
                  ("error", "bmc_address_taken"),  # an earlier row's address
                  ("valid", None)], st
    assert all("id" not in x for x in res["rows"])
    assert "pw-secret-1" not in r.text
    assert psql("SELECT count(*) FROM server_mgmt.servers") == before
    assert psql("SELECT count(*) FROM server_mgmt.servers WHERE "
                "name LIKE 'dry-ok-%'") == "0"
    # The real import agrees with the preview, row by row.
    r = operator.call("POST", "/api/servers/import", data=body,
                      params={"dry_run": "false"},
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    real = [x["status"] for x in r.json()["rows"]]
    assert real == ["created" if s == "valid" else "error" for s, _ in st]
    assert "dry_run" not in r.json()
    for row in r.json()["rows"]:
        if row["status"] == "created":
            admin.delete(f"/api/servers/{row['id']}")
    admin.delete(f"/api/servers/{taken.json()['id']}")
    r = operator.call("POST", "/api/servers/import", data=body,
                      params={"dry_run": "maybe"},
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "dry_run"
    # JSON rows take the same flag.
    r = operator.call("POST", "/api/servers/import", params={"dry_run": "1"},
                      json_body=[{"name": "dry-json",
                                  "bmc_address": "10.5.0.20"}])
    assert r.status_code == 200 and r.json()["valid"] == 1, r.text
    assert operator.get("/api/servers", params={"name": "dry-json"}).json()[
        "total"] == 0


def test_bad_csv_and_json_imports(operator):
    r = operator.call("POST", "/api/servers/import", data="nom,adresse\r\n",
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "nom"
    r = operator.call("POST", "/api/servers/import",
                      data='name,bmc_address\r\n"unterminated,10.0.0.1\r\n',
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 400
    r = operator.post("/api/servers/import", {"name": "not a list"})
    assert r.status_code == 400
    r = operator.post("/api/servers/import", [
        {"name": "json-imp-1", "bmc_address": "10.3.0.1"},
        {"name": "json-imp-2", "bmc_address": "10.3.0.2", "bogus": 1}])
    assert r.status_code == 200
    assert r.json()["created"] == 1 and r.json()["failed"] == 1
    assert r.json()["rows"][1]["error"]["field"] == "bogus"


# Issue 7, finding 7: scans reach only what they should, and not too many
# at once.

@pytest.mark.parametrize("rng", [
    "127.0.0.2", "127.0.0.0/30", "127.0.0.1-127.0.0.3", "10.0.0.1,127.0.0.5",
    "169.254.1.1", "169.254.0.0/24", "224.0.0.1", "239.255.255.250",
    "255.255.255.255", "0.0.0.0", "0.0.0.1", "240.0.0.1", "::", "::1",
    "fe80::1", "ff02::1", "::ffff:127.0.0.2", "::ffff:169.254.0.1"])
def test_scan_refuses_special_addresses(operator, rng):
    r = operator.post("/api/discovery/scans", {"range": rng, "port": 623})
    assert r.status_code == 400, (rng, r.text)
    err = r.json()["error"]
    assert err["field"] == "range" and "OSH_SCAN_ALLOW" in err["message"]
    r = operator.post("/api/discovery/scans", {"range": [rng]})
    assert r.status_code == 400 and r.json()["error"]["field"] == "range"


@pytest.mark.parametrize("rng", [
    "bmc.example.org", "[10.0.0.1]", "10.0.0.1;id", "$(id)", "10.0.0.1\n",
    "10.0.0.1\n10.0.0.2", '10.0.0.1"', "10.0.0.1/33", "10.0.0.1/7",
    "fe80::1%eth0", "10.0.0.1-bmc.example.org", "1" * 100])
def test_scan_refuses_what_is_not_an_address(operator, rng):
    r = operator.post("/api/discovery/scans", {"range": rng})
    assert r.status_code == 400, (rng, r.text)
    assert r.json()["error"]["field"] == "range"


def _slow_scan(api):
    """A scan that runs a few seconds: a BMC that never answers."""
    return api.post("/api/discovery/scans", {
        "range": "127.0.0.1", "port": SILENT_PORT, "timeout_ms": 4000})


def _done(api, sid):
    wait_for(lambda: api.get(f"/api/discovery/scans/{sid}").json()[
        "status"] == "done", timeout=30, what="scan done")


def test_one_running_scan_per_user_and_a_cap(make_user, fleet):
    a, b, c = (make_user("operator")[2] for _ in range(3))
    ra = _slow_scan(a)
    assert ra.status_code == 202, ra.text
    r = _slow_scan(a)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "scan_running"
    rb = _slow_scan(b)
    assert rb.status_code == 202, rb.text
    # The service-wide cap (2 in the test stack) is reached.
    r = _slow_scan(c)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit()
    assert r.json()["error"]["code"] == "too_many_scans"
    _done(a, ra.json()["id"])
    _done(b, rb.json()["id"])
    # Finished scans free their places.
    r = _slow_scan(c)
    assert r.status_code == 202, r.text
    r2 = _slow_scan(a)
    assert r2.status_code == 202, r2.text
    _done(c, r.json()["id"])
    _done(a, r2.json()["id"])

"""Server records: create, validate, list, change, delete; credentials are
write-only and bound to the BMC endpoint; events and audit entries follow
every change."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import (FLEET_PORT, OTHERCREDS_PORT, RUN, TOP, Api, logs, psql,
                      server_body, wait_for)
from legacy_seal import seal


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


def test_missing_server_is_named(admin):
    for path in ("/api/servers/999999", "/api/servers/999999/power",
                 "/api/servers/999999/sel"):
        r = admin.get(path)
        assert r.status_code == 404, r.text
        assert r.json()["error"]["message"] == "server 999999 not found"


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


# Issue 7, finding 4: stored credentials follow the BMC endpoint they were
# given for, never an operator's (or a database writer's) new one.

def _power(api, sid):
    return api.get(f"/api/servers/{sid}/power")


def test_moving_the_bmc_needs_new_credentials(admin, fleet):
    port = FLEET_PORT + 1
    r = admin.post("/api/servers", server_body(port, name="move-1"))
    assert r.status_code == 201, r.text
    s = r.json()
    for body in ({"bmc_address": f"127.0.0.1:{port + 1}"},
                 {"bmc_address": f"127.0.0.2:{port}"},
                 {"bmc_address": "127.0.0.1"},
                 {"ipmi_version": "1.5"},
                 {"bmc_address": f"127.0.0.1:{port + 1}",
                  "description": "moved"}):
        r = admin.patch(f"/api/servers/{s['id']}", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] == "credentials", r.text
    # Nothing changed.
    now = admin.get(f"/api/servers/{s['id']}").json()
    for k in ("bmc_address", "ipmi_version", "description", "updated_at"):
        assert now[k] == s[k], k
    # The same endpoint, spelt the same or not, is no move.
    for body in ({"bmc_address": f"127.0.0.1:{port}"},
                 {"ipmi_version": "2.0"}, {"description": "stays"}):
        r = admin.patch(f"/api/servers/{s['id']}", body)
        assert r.status_code == 200, (body, r.text)
    assert _power(admin, s["id"]).status_code == 200
    # A server without credentials has nothing to carry: it moves.
    r = admin.post("/api/servers", {"name": "move-1b",
                                    "bmc_address": "10.5.0.1"})
    r = admin.patch(f"/api/servers/{r.json()['id']}",
                    {"bmc_address": "10.5.0.2:6230", "ipmi_version": "1.5"})
    assert r.status_code == 200, r.text
    assert r.json()["bmc_address"] == "10.5.0.2:6230"
    admin.delete(f"/api/servers/{r.json()['id']}")
    wait_for(lambda: [e for e in admin.get("/api/audit", params={
        "action": "server.update", "target": f"server:{s['id']}"}).json()[
        "items"] if e["result"] == "failure" and
        e["details"].get("endpoint_changed")], what="refusal audited")
    admin.delete(f"/api/servers/{s['id']}")


def test_moving_the_bmc_with_new_credentials(admin, fleet):
    r = admin.post("/api/servers", server_body(FLEET_PORT + 2,
                                               name="move-2"))
    sid = r.json()["id"]
    pw = "0ther-Secret!"
    r = admin.patch(f"/api/servers/{sid}", {
        "bmc_address": f"127.0.0.1:{OTHERCREDS_PORT}",
        "credentials": {"username": "operator7", "password": pw}})
    assert r.status_code == 200, r.text
    assert r.json()["bmc_address"] == f"127.0.0.1:{OTHERCREDS_PORT}"
    # The BMC there takes only its own credentials: reaching it proves
    # the new ones went there.
    r = _power(admin, sid)
    assert r.status_code == 200, r.text
    entry = wait_for(lambda: [e for e in admin.get("/api/audit", params={
        "action": "server.update", "target": f"server:{sid}"}).json()[
        "items"] if e["result"] == "success"], what="audit entry")[0]
    d = entry["details"]
    assert d["endpoint_changed"] is True and d["replaced"] == "credentials"
    assert d["endpoint_from"] == f"127.0.0.1:{FLEET_PORT + 2} (IPMI 2.0)"
    assert d["endpoint_to"] == f"127.0.0.1:{OTHERCREDS_PORT} (IPMI 2.0)"
    assert pw not in json.dumps(entry)
    assert pw not in logs("server-mgmt")
    # Credentials alone (PUT) are sealed for where the server is now.
    r = admin.put(f"/api/servers/{sid}/credentials",
                  {"username": "operator7", "password": pw})
    assert r.status_code == 200 and _power(admin, sid).status_code == 200
    admin.delete(f"/api/servers/{sid}")


def _row(sid, cols):
    return psql(f"SELECT {cols} FROM server_mgmt.servers WHERE id = {sid}")


def test_credentials_moved_in_the_database_do_not_open(admin, fleet):
    a = admin.post("/api/servers", server_body(FLEET_PORT + 3,
                                               name="dbmove-a")).json()
    assert _power(admin, a["id"]).status_code == 200
    # A's row pointed at another BMC (one that would take the same
    # password) behind the API's back: nothing is sent there.
    for change in (f"bmc_port = {FLEET_PORT + 4}", "ipmi_version = '1.5'",
                   "bmc_host = 'localhost'"):
        psql(f"UPDATE server_mgmt.servers SET {change} WHERE id = {a['id']}")
        r = _power(admin, a["id"])
        assert r.status_code == 409, (change, r.text)
        assert r.json()["error"]["code"] == "credentials_unreadable"
        r = admin.call("GET", f"/api/servers/{a['id']}/sensors")
        assert r.status_code == 409, (change, r.text)
        psql(f"UPDATE server_mgmt.servers SET bmc_host = '127.0.0.1', "
             f"bmc_port = {FLEET_PORT + 3}, ipmi_version = '2.0' "
             f"WHERE id = {a['id']}")
    assert _power(admin, a["id"]).status_code == 200
    # Another row's sealed credentials, copied over: they are not B's.
    b = admin.post("/api/servers", {"name": "dbmove-b", "bmc_address":
                                    f"127.0.0.1:{FLEET_PORT + 4}"}).json()
    psql(f"UPDATE server_mgmt.servers SET (credentials, credentials_binding)"
         f" = (SELECT credentials, credentials_binding FROM "
         f"server_mgmt.servers WHERE id = {a['id']}) WHERE id = {b['id']}")
    r = _power(admin, b["id"])
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "credentials_unreadable"
    admin.delete(f"/api/servers/{a['id']}")
    admin.delete(f"/api/servers/{b['id']}")


def _seal_by_id(sid, user, password):
    """Credentials sealed the way releases before the endpoint binding
    did: additional data "server:<id>"."""
    return seal(f"server:{sid}", user, password)


def _udp_listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    return sock


def _received(sock, seconds):
    """Datagrams the socket got within the time given."""
    got = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            got.append(sock.recvfrom(4096))
        except socket.timeout:
            pass
    return got


def _audit(admin, action, target):
    return admin.get("/api/audit", params={"action": action,
                                           "target": target}).json()["items"]


def test_id_bound_credentials_set_after_start_are_refused(admin, fleet):
    """Credentials bound to the server id only open for whatever endpoint
    their row names: a database writer restoring pre-upgrade ones (marked
    binding 1) and pointing the row elsewhere gets nothing sent there, and
    they are not re-sealed for the new place either."""
    port = FLEET_PORT + 4
    sid = admin.post("/api/servers", server_body(port, name="legacy-1")) \
        .json()["id"]
    assert _power(admin, sid).status_code == 200
    old = _seal_by_id(sid, "admin", "secret")
    listener = _udp_listener()
    there = listener.getsockname()[1]
    try:
        mark = len(logs("server-mgmt"))
        psql(f"UPDATE server_mgmt.servers SET credentials = '{old}', "
             f"credentials_binding = 1, bmc_port = {there} "
             f"WHERE id = {sid}")
        for path in ("power", "sensors", "inventory", "sel"):
            r = admin.get(f"/api/servers/{sid}/{path}")
            assert r.status_code == 409, (path, r.text)
            assert r.json()["error"]["code"] == "credentials_unreadable"
        r = admin.post(f"/api/servers/{sid}/power", {"action": "on"})
        assert r.status_code == 409, r.text
        # Nor does the poller (every 2 s in tests) send anything.
        assert _received(listener, 5) == []
    finally:
        listener.close()
    assert _row(sid, "credentials_binding") == "1"
    assert _row(sid, "credentials") == old
    assert f"credentials bound to the server id only refused\" " \
        f"server={sid}" in logs("server-mgmt")[mark:]
    # At its own endpoint too: after the start-up pass, nothing opens
    # them any more.
    psql(f"UPDATE server_mgmt.servers SET bmc_port = {port} "
         f"WHERE id = {sid}")
    assert _power(admin, sid).status_code == 409
    assert _row(sid, "credentials_binding") == "1"
    # Credentials set again through the API work.
    r = admin.put(f"/api/servers/{sid}/credentials",
                  {"username": "admin", "password": "secret"})
    assert r.status_code == 200, r.text
    assert _row(sid, "credentials_binding") == "2"
    assert _power(admin, sid).status_code == 200
    admin.delete(f"/api/servers/{sid}")


def _restart_server_mgmt(while_stopped, env=None):
    """Stops server-mgmt, runs while_stopped(), starts it again (with env
    added to the environment); returns where its log went on."""
    pid = int((RUN / "pids" / "server-mgmt.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=20,
             what="server-mgmt stopped")
    while_stopped()
    mark = len(logs("server-mgmt"))
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "up"],
                   check=True, capture_output=True, timeout=300,
                   env=dict(os.environ, **(env or {})))
    return mark


def test_upgrade_reseals_id_bound_credentials_at_start(admin, fleet):
    """What an upgrade finds: records sealed for the server id only, and
    no record of the re-seal pass. The first start re-seals each for the
    endpoint its row names, audits that, and records that it is done;
    later starts open no such credentials."""
    port = FLEET_PORT + 2
    sid = admin.post("/api/servers", server_body(
        port, name="upgrade-1", monitoring=False)).json()["id"]
    old = _seal_by_id(sid, "admin", "secret")

    def before_the_upgrade():
        psql("DELETE FROM server_mgmt.credentials_state")
        psql(f"UPDATE server_mgmt.servers SET credentials = '{old}', "
             f"credentials_binding = 1 WHERE id = {sid}")

    mark = _restart_server_mgmt(before_the_upgrade)
    wait_for(lambda: _row(sid, "credentials_binding") == "2", timeout=20,
             what="re-sealed at start")
    log = logs("server-mgmt")[mark:]
    assert "re-sealing credentials bound to server ids only" in log
    wait_for(lambda: "from now on such credentials are refused" in
             logs("server-mgmt")[mark:], what="the pass recorded as done")
    assert _row(sid, "credentials") != old
    assert psql("SELECT count(*) FROM server_mgmt.credentials_state "
                "WHERE name = 'legacy_resealed'") == "1"
    assert _power(admin, sid).status_code == 200
    entry = wait_for(lambda: _audit(admin, "server.credentials_reseal",
                                    f"server:{sid}"),
                     what="re-seal audited")[0]
    assert entry["actor"] == "system" and entry["result"] == "success"
    assert entry["details"]["endpoint"] == f"127.0.0.1:{port} (IPMI 2.0)"
    assert "secret" not in json.dumps(entry)

    # The pass ran once: a row bound to the id found at a later start
    # (restored from a backup, say) is refused, not re-sealed.
    old = _seal_by_id(sid, "admin", "secret")
    mark = _restart_server_mgmt(lambda: psql(
        f"UPDATE server_mgmt.servers SET credentials = '{old}', "
        f"credentials_binding = 1 WHERE id = {sid}"))
    wait_for(lambda: f"set them again\" server={sid}" in
             logs("server-mgmt")[mark:], what="refusal logged at start")
    assert _row(sid, "credentials_binding") == "1"
    assert _row(sid, "credentials") == old
    r = _power(admin, sid)
    assert r.status_code == 409 and \
        r.json()["error"]["code"] == "credentials_unreadable", r.text
    assert len(_audit(admin, "server.credentials_reseal",
                      f"server:{sid}")) == 1

    # A marker that does not open under the keys counts for nothing, and
    # with OSH_CREDENTIALS_LEGACY_RESEAL=false no pass runs at all.
    mark = _restart_server_mgmt(lambda: psql(
        "UPDATE server_mgmt.credentials_state SET sealed = 'k1:AAAA'"),
        env={"OSH_CREDENTIALS_LEGACY_RESEAL": "false"})
    wait_for(lambda: f"set them again\" server={sid}" in
             logs("server-mgmt")[mark:], what="refusal logged at start")
    assert "OSH_CREDENTIALS_LEGACY_RESEAL=false" in \
        logs("server-mgmt")[mark:]
    assert _row(sid, "credentials_binding") == "1"
    assert _power(admin, sid).status_code == 409
    admin.delete(f"/api/servers/{sid}")
    # Back to the defaults: the broken marker is taken as absent and the
    # pass (nothing left to re-seal) records itself again.
    mark = _restart_server_mgmt(lambda: None)
    wait_for(lambda: "from now on such credentials are refused" in
             logs("server-mgmt")[mark:], what="the pass recorded again")


# Issue 7, finding 9: a BMC host is an IP address or a host name, nothing
# else, wherever one comes in.

HOSTILE = ['10.0.0.1"', '"10.0.0.1"', "10.0.0.1 ", " 10.0.0.1", "10.0.0.1\n",
           "bmc\nts=x level=error msg=INJECTED", "bmc host", "a\tb",
           "bmc;reboot", "$(reboot)", "`id`", "bmc|cat", "bmc&", "bmc>x",
           "bmc'x", "[10.0.0.1]", "[bmc.example.org]:623", "[fe80::1%eth0]",
           "fe80::1%eth0", "a" * 64 + ".example.org",
           ".".join(["abcdefgh"] * 29), "10.0.0.1:\t623", "10.0.0.1: 623",
           "10.0.0.1:+623", "10.0.0.1:623:624", "bmc..example", "-bmc.example",
           "bmc-.example", "bmc_1.example", "10.0.0.300", "bmc.example.",
           "é.example", "%31%30.0.0.1", "10.0.0.1/32", "http://10.0.0.1"]


@pytest.mark.parametrize("addr", HOSTILE)
def test_hostile_hosts_refused(admin, addr):
    r = admin.post("/api/servers", {"name": "hostile", "bmc_address": addr})
    assert r.status_code == 400, (addr, r.text)
    assert r.json()["error"]["field"] == "bmc_address"


def test_hostile_hosts_refused_on_patch_and_import(admin):
    s = admin.post("/api/servers", {"name": "hostile-patch",
                                    "bmc_address": "10.2.0.1"}).json()
    for addr in HOSTILE:
        r = admin.patch(f"/api/servers/{s['id']}", {"bmc_address": addr})
        assert r.status_code == 400, (addr, r.text)
        assert r.json()["error"]["field"] == "bmc_address"
    assert admin.get(f"/api/servers/{s['id']}").json()["bmc_address"] == \
        "10.2.0.1"
    admin.delete(f"/api/servers/{s['id']}")
    rows = [{"name": f"hostile-{i}", "bmc_address": a}
            for i, a in enumerate(HOSTILE)]
    r = admin.post("/api/servers/import", rows)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0
    assert all(x["error"]["field"] == "bmc_address"
               for x in r.json()["rows"])
    text = "name,bmc_address\r\n" + "".join(
        f'hostile-csv-{i},"{a.replace(chr(34), chr(34) * 2)}"\r\n'
        for i, a in enumerate(HOSTILE))
    r = admin.call("POST", "/api/servers/import", data=text.encode(),
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0 and r.json()["failed"] == len(HOSTILE)
    assert all(x["error"]["field"] == "bmc_address"
               for x in r.json()["rows"])
    # Nothing from outside starts a log line of its own.
    for line in logs("server-mgmt").splitlines():
        assert not line.startswith("ts=x"), line

"""Talking to BMCs through the API, checked against the simulators."""
import concurrent.futures
import re
import subprocess
import time

import pytest
import requests

from conftest import (FLEET, FLEET_PORT, IPMI15_PORT, OTHERCREDS_PORT,
                      PORTS, SILENT_PORT, ipmipower, server_body, sim,
                      wait_for)

BIGSEL_PORT = FLEET_PORT + 60  # a BMC whose log holds 250 entries more


@pytest.fixture(scope="module")
def servers(admin, fleet):
    made = {}
    for i in range(3):
        port = FLEET_PORT + i
        r = admin.post("/api/servers", server_body(port, name=f"hw-{i}"))
        assert r.status_code == 201, r.text
        made[port] = r.json()["id"]
    for port, kw in ((SILENT_PORT, {}), (IPMI15_PORT,
                                          {"ipmi_version": "1.5"})):
        r = admin.post("/api/servers", server_body(port, name=f"hw-{port}",
                                                   **kw))
        made[port] = r.json()["id"]
    r = admin.post("/api/servers", server_body(OTHERCREDS_PORT,
                                               name="hw-wrongcreds"))
    made[OTHERCREDS_PORT] = r.json()["id"]
    yield made
    for sid in made.values():
        admin.delete(f"/api/servers/{sid}")


def test_power_actions_change_the_bmc(operator, servers):
    port = FLEET_PORT
    sid = servers[port]
    for action, want in (("off", "off"), ("on", "on"), ("soft", "off"),
                         ("on", "on")):
        r = operator.post(f"/api/servers/{sid}/power", {"action": action})
        assert r.status_code == 200, r.text
        assert r.json()["result"] == "ok"
        wait_for(lambda: ipmipower(port, "--stat").endswith(want),
                 timeout=10, what=f"{action} -> {want}")
    r = operator.post(f"/api/servers/{sid}/power", {"action": "reset"})
    assert r.status_code == 200
    wait_for(lambda: "reset" in (FLEET / "bmc1" / "events").read_text(),
             what="reset at the BMC")
    r = operator.post(f"/api/servers/{sid}/power", {"action": "cycle"})
    assert r.status_code == 200
    wait_for(lambda: ipmipower(port, "--stat").endswith("on"), timeout=15,
             what="on again after a cycle")
    # ipmi_sim does not implement the diagnostic interrupt: a clear 501.
    r = operator.post(f"/api/servers/{sid}/power", {"action": "diag"})
    assert r.status_code == 501
    assert r.json()["error"]["code"] == "bmc_unsupported"
    r = operator.post(f"/api/servers/{sid}/power", {"action": "explode"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "action"


def test_live_power_status(viewer, servers):
    port = FLEET_PORT + 1
    ipmipower(port, "--off")
    r = viewer.get(f"/api/servers/{servers[port]}/power")
    assert r.status_code == 200 and r.json()["power_state"] == "off"
    ipmipower(port, "--on")
    assert viewer.get(f"/api/servers/{servers[port]}/power") \
        .json()["power_state"] == "on"


def test_boot_device_and_identify(operator, servers):
    sid = servers[FLEET_PORT + 2]
    r = operator.put(f"/api/servers/{sid}/boot-device",
                     {"device": "pxe", "persistent": False, "efi": True})
    assert r.status_code == 200, r.text
    assert (FLEET / "bmc3" / "boot").read_text().strip() == "pxe"
    r = operator.put(f"/api/servers/{sid}/boot-device", {"device": "floppy"})
    assert r.status_code == 400
    for body in ({"seconds": 30}, {"force": True}, {"off": True}):
        assert operator.post(f"/api/servers/{sid}/identify", body) \
            .status_code == 200, body
    for body in ({}, {"seconds": 5, "force": True}, {"seconds": 0}):
        assert operator.post(f"/api/servers/{sid}/identify", body) \
            .status_code == 400, body


def test_sensors_match_the_simulator(viewer, servers, fleet):
    port = FLEET_PORT + 2
    sid = servers[port]
    r = viewer.get(f"/api/servers/{sid}/sensors")
    assert r.status_code == 200, r.text
    got = {s["name"]: s for s in r.json()["items"]}
    want = fleet[f"127.0.0.1:{port}"]
    for s in want["sensors"]:
        assert got[s["name"]]["value"] == pytest.approx(s["value"], abs=0.07)
        assert got[s["name"]]["state"] == "nominal"
    for d in want["discrete"]:
        assert d["name"] in got
    cpu = got["CPU1 Temp"]
    assert cpu["unit"] == "C" and cpu["type"] == "Temperature"
    assert cpu["thresholds"]["upper_critical"] == 95
    assert got["FAN1"]["unit"] == "RPM"
    # Change a value at the BMC: the next read shows it.
    sim("set", str(FLEET), "bmc3", "CPU1 Temp", "88")
    def hot():
        s = {x["name"]: x for x in viewer.get(
            f"/api/servers/{sid}/sensors").json()["items"]}["CPU1 Temp"]
        return s["value"] == 88 and s["state"] == "warning"
    wait_for(hot, timeout=5, what="CPU1 Temp at 88 C, warning")
    sim("set", str(FLEET), "bmc3", "CPU1 Temp", "45")


def test_inventory_matches_the_simulator(viewer, servers, fleet):
    port = FLEET_PORT + 1
    want = fleet[f"127.0.0.1:{port}"]
    r = viewer.get(f"/api/servers/{servers[port]}/inventory")
    assert r.status_code == 200, r.text
    inv = r.json()
    assert inv["bmc"]["manufacturer_id"] == want["manufacturer_id"]
    assert inv["fru"]["product"]["manufacturer"] == want["manufacturer"]
    assert inv["fru"]["product"]["name"] == want["product"]
    assert inv["fru"]["product"]["serial"] == want["serial"]
    assert inv["fru"]["board"]["part_number"] == want["part_number"]
    assert inv["fru"]["chassis"]["type"] == "Rack Mount Chassis"


def test_sel_read_and_clear(viewer, operator, servers, fleet):
    port = FLEET_PORT + 2
    sid = servers[port]
    # The BMC may log an entry between two reads (a threshold crossed by
    # another test going back): the pages are read first, and found in
    # the whole list read after them.
    first = viewer.get(f"/api/servers/{sid}/sel", params={"limit": "1"})
    r = viewer.get(f"/api/servers/{sid}/sel", params={"limit": "50"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    text = [(e["sensor"], e["description"]) for e in items]
    assert ("CPU1 Temp", "Upper Critical - going high") in text
    assert ("PSU1 Status", "Power Supply Failure detected") in text
    assert ("Intrusion", "General Chassis Intrusion") in text
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert r.json()["total"] == len(ids) and r.json()["next_cursor"] is None
    at = ids.index(first.json()["items"][0]["id"])
    assert first.json()["next_cursor"] == ids[at + 1]
    page = viewer.get(f"/api/servers/{sid}/sel", params={
        "limit": "1", "cursor": str(first.json()["next_cursor"])}).json()
    assert page["items"][0]["id"] == ids[at + 1]
    assert operator.delete(f"/api/servers/{sid}/sel").status_code == 204
    after = viewer.get(f"/api/servers/{sid}/sel").json()
    assert after["total"] <= 1  # the BMC may log the clearing itself
    # A cursor from before the clear names no entry any more.
    gone = viewer.get(f"/api/servers/{sid}/sel",
                      params={"cursor": str(ids[-1])})
    assert gone.status_code == 400
    assert gone.json()["error"]["field"] == "cursor"


def sel_records_read():
    m = requests.get(f"http://127.0.0.1:{PORTS['server-mgmt']}/metrics",
                     timeout=5).text
    return float(re.search(r"^osh_ipmi_sel_records_read_total (\S+)$", m,
                           re.M).group(1))


@pytest.fixture(scope="module")
def bigsel(admin, fleet):
    sim("add", str(FLEET), "--kind", "bigsel", "--sel", "250", "--port",
        str(BIGSEL_PORT))
    r = admin.post("/api/servers", server_body(BIGSEL_PORT, name="hw-bigsel"))
    assert r.status_code == 201, r.text
    yield r.json()["id"]
    admin.delete(f"/api/servers/{r.json()['id']}")


def test_sel_pages_by_cursor(viewer, bigsel):
    """A long log a page at a time: every entry once, newest first; the
    BMC's records are read once, not per page; new ones alone later."""
    url = f"/api/servers/{bigsel}/sel"
    before = sel_records_read()
    pages, ids, cursor = 0, [], None
    while True:
        params = {"limit": "40"}
        if cursor is not None:
            params["cursor"] = str(cursor)
        r = viewer.get(url, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 40
        ids += [e["id"] for e in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 40
    total = body["total"]
    assert total >= 254 and len(ids) == total and pages == -(-total // 40)
    assert ids == sorted(set(ids), reverse=True)
    assert sel_records_read() - before == total
    # Three entries arrive: the next first page has them, read alone.
    sim("event", str(FLEET), f"127.0.0.1:{BIGSEL_PORT}", "--count", "3")
    before = sel_records_read()
    body = viewer.get(url, params={"limit": "5"}).json()
    assert body["total"] == total + 3
    assert [e["id"] for e in body["items"]][3:] == ids[:2]
    assert all(e["id"] > ids[0] for e in body["items"][:3])
    assert sel_records_read() - before == 3
    # The default page and the bounds.
    assert len(viewer.get(url).json()["items"]) == 100
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"limit": "x"},
                {"cursor": "0"}, {"cursor": "65535"}, {"cursor": "-1"},
                {"offset": "10"}, {"page": "2"}):
        r = viewer.get(url, params=bad)
        assert r.status_code == 400, bad
        assert r.json()["error"]["field"] == next(iter(bad)), bad


def test_silent_bmc_times_out_without_slowing_others(viewer, servers):
    silent, ok = servers[SILENT_PORT], servers[FLEET_PORT + 1]
    def timed(sid):
        r = viewer.get(f"/api/servers/{sid}/power")
        return r, time.time()

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        t0 = time.time()
        slow = ex.submit(timed, silent)
        time.sleep(0.2)
        for _ in range(3):
            r, fast_at = timed(ok)
            assert r.status_code == 200
        r, slow_at = slow.result()
        elapsed = slow_at - t0
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "bmc_timeout"
    assert elapsed < 3.0 + 1.0  # OSH_BMC_TIMEOUT_MS=3000 in tests
    # Three reads of a healthy BMC, one after another, all answered while
    # the silent one waits out its deadline: not held behind it.
    assert fast_at < slow_at, (fast_at - t0, elapsed)


def test_wrong_credentials_are_named(viewer, servers, admin):
    sid = servers[OTHERCREDS_PORT]
    r = viewer.get(f"/api/servers/{sid}/power")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "bmc_auth_failed"
    # With the right ones it works.
    admin.put(f"/api/servers/{sid}/credentials",
              {"username": "operator7", "password": "0ther-Secret!"})
    assert viewer.get(f"/api/servers/{sid}/power").status_code == 200


def test_ipmi15_server(viewer, servers):
    r = viewer.get(f"/api/servers/{servers[IPMI15_PORT]}/power")
    assert r.status_code == 200, r.text


def test_no_credentials(admin):
    r = admin.post("/api/servers", {"name": "nocreds",
                                    "bmc_address": "10.5.5.5"})
    r2 = admin.get(f"/api/servers/{r.json()['id']}/power")
    assert r2.status_code == 409
    assert r2.json()["error"]["code"] == "no_credentials"
    admin.delete(f"/api/servers/{r.json()['id']}")


def test_poller_notices_outside_power_change(admin, servers, events):
    port = FLEET_PORT + 1
    sid = servers[port]
    wait_for(lambda: admin.get(f"/api/servers/{sid}").json()["power_state"]
             == "on", timeout=10, what="on first")
    sim("power", str(FLEET), "bmc2", "off")
    try:
        wait_for(lambda: admin.get(f"/api/servers/{sid}").json()[
            "power_state"] == "off", timeout=10, what="poller sees off")
        ev = events.wait(lambda e: e["type"] == "server.power_changed" and
                         e["data"]["id"] == sid)
        assert ev[0]["data"]["from"] == "on" and ev[0]["data"]["to"] == "off"
        s = admin.get(f"/api/servers/{sid}").json()
        assert s["status"] == "online" and s["last_seen"]
    finally:
        sim("power", str(FLEET), "bmc2", "on")


def test_poller_marks_offline_and_auth_failed(admin, servers):
    wait_for(lambda: admin.get(f"/api/servers/{servers[SILENT_PORT]}")
             .json()["status"] == "offline", timeout=15, what="offline")
    s = admin.get(f"/api/servers/{servers[SILENT_PORT]}").json()
    assert s["power_state"] == "unknown" and s["last_error"]


def test_refresh_now(operator, servers):
    r = operator.post(f"/api/servers/{servers[FLEET_PORT]}/refresh")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "online"
    assert r.json()["manufacturer"]


def test_service_discovery_follows_adds_and_deletes(admin, fleet):
    import requests
    url = f"http://127.0.0.1:{PORTS['server-mgmt']}/internal/prometheus/targets"
    r = admin.post("/api/servers", server_body(FLEET_PORT + 4, name="sd-1",
                                               cluster="c9"))
    sid = r.json()["id"]
    groups = requests.get(url, timeout=5).json()
    mine = [g for g in groups if g["labels"]["server_id"] == str(sid)]
    assert mine and mine[0]["targets"] == [f"127.0.0.1:{FLEET_PORT + 4}"]
    assert mine[0]["labels"]["cluster"] == "c9"
    assert mine[0]["labels"]["__param_module"] == "osh"
    admin.patch(f"/api/servers/{sid}", {"monitoring": False})
    assert not [g for g in requests.get(url, timeout=5).json()
                if g["labels"]["server_id"] == str(sid)]
    admin.delete(f"/api/servers/{sid}")
    assert not [g for g in requests.get(url, timeout=5).json()
                if g["labels"]["server_id"] == str(sid)]


def test_internal_credentials_for_services(admin, servers):
    import requests
    from conftest import RUN
    secret = (RUN / "secrets" / "service-secret").read_text().strip()
    tok = requests.post(
        f"http://127.0.0.1:{PORTS['auth']}/internal/auth/service-token",
        json={"service": "ipmi-exporter", "secret": secret},
        timeout=5).json()["access_token"]
    base = f"http://127.0.0.1:{PORTS['server-mgmt']}"
    r = requests.get(f"{base}/internal/servers/credentials",
                     params={"target": f"127.0.0.1:{FLEET_PORT}"},
                     headers={"Authorization": f"Bearer {tok}"}, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "admin" and r.json()["password"] == "secret"
    # Users cannot, and nginx does not expose the route at all.
    user = requests.get(f"{base}/internal/servers/{servers[FLEET_PORT]}"
                        "/credentials", headers={
                            "Authorization": f"Bearer {admin.token}"},
                        timeout=5)
    assert user.status_code == 403
    assert admin.get(f"/internal/servers/{servers[FLEET_PORT]}/credentials",
                     check=False).status_code == 404

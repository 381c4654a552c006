"""Clusters (osh-cluster-mgmt): CRUD, validation naming the field, label
selectors resolved against server-mgmt's servers through cluster-mgmt's
read model, membership following server changes by events, the rebuild
after missed events, permissions, audit, events, and the clusters of each
server in Prometheus' service discovery."""
import secrets

import requests

from conftest import (NOTHING_PORT, PORTS, RUN, psql, redis, wait_for)

CM = f"http://127.0.0.1:{PORTS['cluster-mgmt']}"
SM = f"http://127.0.0.1:{PORTS['server-mgmt']}"


def tag():
    return secrets.token_hex(4)


def make_server(admin, labels, port):
    """A server without credentials (nothing polls it) on a port of its
    own: only its labels matter here."""
    r = admin.post("/api/servers", {
        "name": f"cl-{tag()}", "bmc_address": f"127.0.0.3:{port}",
        "labels": labels})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def member_ids(api, cid, **params):
    r = api.get(f"/api/clusters/{cid}/servers",
                params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    return sorted(s["id"] for s in r.json()["items"])


def service_token(name="cluster-mgmt"):
    secret = (RUN / "secrets" / "service-secret").read_text().strip()
    return requests.post(
        f"http://127.0.0.1:{PORTS['auth']}/internal/auth/service-token",
        json={"service": name, "secret": secret},
        timeout=5).json()["access_token"]


def test_crud(admin, events):
    name = f"web-{tag()}"
    r = admin.post("/api/clusters", {"name": name, "description": "front",
                                     "labels": {"team": "a"},
                                     "selector": "role  in (web , db)"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["selector"] == "role in (web,db)"  # canonical
    assert c["labels"] == {"team": "a"} and c["explicit_count"] == 0
    cid = c["id"]
    got = admin.get(f"/api/clusters/{cid}").json()
    assert got["name"] == name and got["summary"]["total"] >= 0
    lst = admin.get("/api/clusters", params={"name": name.upper()}).json()
    assert [x["id"] for x in lst["items"]] == [cid] and lst["total"] == 1
    # Names are unique without case.
    r = admin.post("/api/clusters", {"name": name.upper()})
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"
    r = admin.patch(f"/api/clusters/{cid}", {"description": "x",
                                             "selector": None})
    assert r.status_code == 200 and r.json()["selector"] is None
    assert r.json()["description"] == "x" and r.json()["name"] == name
    assert admin.delete(f"/api/clusters/{cid}").status_code == 204
    assert admin.get(f"/api/clusters/{cid}").status_code == 404
    assert admin.delete(f"/api/clusters/{cid}").status_code == 404
    assert admin.patch(f"/api/clusters/{cid}", {"name": "z"}).status_code \
        == 404
    types = {"cluster.created", "cluster.updated", "cluster.deleted"}
    events.wait(lambda e: e["type"] == "cluster.deleted" and
                e["data"]["id"] == cid)
    seen = {e["type"] for e in events.events()
            if e["type"].startswith("cluster.") and e["data"]["id"] == cid}
    assert types <= seen


def test_validation_errors_name_the_field(admin):
    cases = [
        ({"name": "a", "selector": "rack=r1,,env"}, "selector"),
        ({"name": "a", "selector": "role in (db"}, "selector"),
        ({"name": "a", "selector": ""}, "selector"),
        ({"name": "a", "selector": "a=" + "v" * 300}, "selector"),
        ({"name": "a", "labels": {"1bad": "x"}}, "labels"),
        ({"name": "a", "labels": {"k": 1}}, "labels"),
        ({"name": "a/b"}, "name"),
        ({"name": ""}, "name"),
        ({"description": "no name"}, "name"),
        ({"name": "a", "nope": 1}, "nope"),
    ]
    for body, field in cases:
        r = admin.post("/api/clusters", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] == field, (body, r.json())
    r = admin.post("/api/clusters", {"name": "a", "selector": "a b"})
    assert "position 2" in r.json()["error"]["message"]
    cid = admin.post("/api/clusters", {"name": f"v-{tag()}"}).json()["id"]
    for body in ({"server_ids": []}, {"server_ids": [0]},
                 {"server_ids": ["1"]}, {}, {"server_ids": [1], "x": 1}):
        r = admin.post(f"/api/clusters/{cid}/servers", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] in ("server_ids", "x")
    r = admin.post(f"/api/clusters/{cid}/servers",
                   {"server_ids": [987654321]})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "server_ids"
    assert "987654321" in r.json()["error"]["message"]
    for q in ({"limit": "0"}, {"status": "sleepy"}, {"power_state": "x"},
              {"offset": "-1"}, {"bogus": "1"}):
        r = admin.get(f"/api/clusters/{cid}/servers", params=q)
        assert r.status_code == 400, q
        assert r.json()["error"]["field"] == next(iter(q))
    admin.delete(f"/api/clusters/{cid}")


def test_selectors_resolve_against_server_labels(admin):
    t = tag()
    base = NOTHING_PORT + 100 + secrets.randbelow(5000)
    s1 = make_server(admin, {"t": t, "rack": "r12", "env": "prod",
                             "role": "db"}, base)
    s2 = make_server(admin, {"t": t, "rack": "r12", "env": "lab",
                             "role": "web"}, base + 1)
    s3 = make_server(admin, {"t": t, "rack": "r13", "role": "dns",
                             "maintenance": "yes"}, base + 2)
    cases = {
        f"t={t},rack=r12,env!=lab": [s1],
        f"t=={t},role in (db,web)": [s1, s2],
        f"t={t},role notin (db,web)": [s3],
        f"t={t},!maintenance": [s1, s2],
        f"t={t},maintenance": [s3],
        f"t={t},env": [s1, s2],
        f"t={t},rack!=r12": [s3],
    }
    for sel, want in cases.items():
        r = admin.post("/api/clusters", {"name": f"s-{tag()}",
                                         "selector": sel})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        got = wait_for(lambda: member_ids(admin, cid) == sorted(want),
                       what=f"members of {sel}")
        assert got
        admin.delete(f"/api/clusters/{cid}")
    # Explicit members and the selector together; filters; the summary.
    cid = admin.post("/api/clusters", {"name": f"mix-{tag()}",
                                       "selector": f"t={t},rack=r13"}).json()[
        "id"]
    r = admin.post(f"/api/clusters/{cid}/servers",
                   {"server_ids": [s1, s3]})
    assert r.status_code == 200 and r.json()["added"] == [s1, s3]
    assert admin.post(f"/api/clusters/{cid}/servers",
                      {"server_ids": [s1]}).json()["added"] == []
    items = {s["id"]: s for s in admin.get(
        f"/api/clusters/{cid}/servers").json()["items"]}
    assert set(items) == {s1, s3}
    assert items[s1]["explicit"] and not items[s1]["selected"]
    assert items[s3]["explicit"] and items[s3]["selected"]
    assert items[s1]["power_state"] == "unknown"
    assert member_ids(admin, cid, status="unknown") == sorted([s1, s3])
    assert member_ids(admin, cid, status="online") == []
    page = admin.get(f"/api/clusters/{cid}/servers",
                     params={"limit": "1", "offset": "1"}).json()
    assert page["total"] == 2 and [s["id"] for s in page["items"]] == [
        max(s1, s3)]
    got = admin.get(f"/api/clusters/{cid}").json()
    assert got["explicit_count"] == 2
    assert got["summary"] == {"total": 2, "by_power_state": {"unknown": 2},
                              "by_status": {"unknown": 2}}
    # Removing s3's explicit membership leaves it selected.
    r = admin.delete(f"/api/clusters/{cid}/servers",
                     json_body={"server_ids": [s3, s2]})
    assert r.status_code == 200 and r.json()["removed"] == [s3]
    assert member_ids(admin, cid) == sorted([s1, s3])
    # Deleting the cluster never touches servers.
    assert admin.delete(f"/api/clusters/{cid}").status_code == 204
    for s in (s1, s2, s3):
        assert admin.get(f"/api/servers/{s}").status_code == 200
        admin.delete(f"/api/servers/{s}")


def test_membership_follows_server_events(admin, events):
    t = tag()
    base = NOTHING_PORT + 6000 + secrets.randbelow(3000)
    s1 = make_server(admin, {"t": t, "role": "db"}, base)
    s2 = make_server(admin, {"t": t, "role": "web"}, base + 1)
    cid = admin.post("/api/clusters", {"name": f"ev-{tag()}",
                                       "selector": f"t={t},role=db"}).json()[
        "id"]
    wait_for(lambda: member_ids(admin, cid) == [s1], what="s1 selected")
    # Labels change: s2 joins, s1 leaves.
    admin.patch(f"/api/servers/{s2}", {"labels": {"t": t, "role": "db"}})
    admin.patch(f"/api/servers/{s1}", {"labels": {"t": t}})
    wait_for(lambda: member_ids(admin, cid) == [s2], what="s2 selected")
    ev = events.wait(lambda e: e["type"] == "cluster.members_changed" and
                     e["data"]["id"] == cid and
                     e["data"]["reason"] == "server_labels" and
                     e["data"]["added"] == [s2])
    assert ev
    events.wait(lambda e: e["type"] == "cluster.members_changed" and
                e["data"]["id"] == cid and e["data"]["removed"] == [s1])
    # A deleted server leaves every cluster, explicit ones too.
    other = admin.post("/api/clusters", {"name": f"ex-{tag()}"}).json()["id"]
    admin.post(f"/api/clusters/{other}/servers", {"server_ids": [s1, s2]})
    events.wait(lambda e: e["type"] == "cluster.members_changed" and
                e["data"]["id"] == other and e["data"]["reason"] ==
                "explicit" and e["data"]["added"] == sorted([s1, s2]))
    assert admin.delete(f"/api/servers/{s2}").status_code == 204
    wait_for(lambda: member_ids(admin, cid) == [] and
             member_ids(admin, other) == [s1], what="s2 gone")
    assert admin.get(f"/api/clusters/{other}").json()["explicit_count"] == 1
    for c in (cid, other):
        events.wait(lambda e, c=c: e["type"] == "cluster.members_changed"
                    and e["data"]["id"] == c and
                    e["data"]["reason"] == "server_deleted" and
                    e["data"]["removed"] == [s2])
    # Adding a deleted server is refused.
    r = admin.post(f"/api/clusters/{other}/servers", {"server_ids": [s2]})
    assert r.status_code == 400
    admin.delete(f"/api/servers/{s1}")
    wait_for(lambda: member_ids(admin, other) == [], what="s1 gone")
    admin.delete(f"/api/clusters/{cid}")
    admin.delete(f"/api/clusters/{other}")


def sync_count():
    text = requests.get(f"{CM}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith('osh_cluster_sync_total{result="ok"}'):
            return float(line.split()[-1])
    return 0.0


def test_rebuild_after_missed_events(admin):
    """Changes the read model behind cluster-mgmt's back (as a lost event
    would leave it), then drops its subscription: the reconnection
    rebuilds it from server-mgmt."""
    t = tag()
    base = NOTHING_PORT + 10000 + secrets.randbelow(3000)
    s1 = make_server(admin, {"t": t}, base)
    s2 = make_server(admin, {"t": t}, base + 1)
    cid = admin.post("/api/clusters", {"name": f"rb-{tag()}",
                                       "selector": f"t={t}"}).json()["id"]
    wait_for(lambda: member_ids(admin, cid) == sorted([s1, s2]),
             what="both selected")
    psql(f"UPDATE cluster_mgmt.servers SET labels = '{{}}' WHERE id = {s1}")
    psql(f"DELETE FROM cluster_mgmt.servers WHERE id = {s2}")
    psql("INSERT INTO cluster_mgmt.servers (id, name, labels) VALUES "
         f"(987654000 + {secrets.randbelow(999)}, 'ghost-{t}', "
         f"'{{\"t\": \"{t}\"}}')")
    assert member_ids(admin, cid) != sorted([s1, s2])
    before = sync_count()
    assert int(redis("CLIENT", "KILL", "TYPE", "pubsub")) >= 1
    wait_for(lambda: sync_count() > before, timeout=20, what="a rebuild")
    assert member_ids(admin, cid) == sorted([s1, s2])
    for s in (s1, s2):
        admin.delete(f"/api/servers/{s}")
    admin.delete(f"/api/clusters/{cid}")


def test_permissions(admin, operator, viewer):
    cid = admin.post("/api/clusters", {"name": f"p-{tag()}"}).json()["id"]
    assert viewer.get("/api/clusters").status_code == 200
    assert viewer.get(f"/api/clusters/{cid}").status_code == 200
    assert viewer.get(f"/api/clusters/{cid}/servers").status_code == 200
    for method, path, body in (
            ("POST", "/api/clusters", {"name": "v"}),
            ("PATCH", f"/api/clusters/{cid}", {"name": "v"}),
            ("DELETE", f"/api/clusters/{cid}", None),
            ("POST", f"/api/clusters/{cid}/servers", {"server_ids": [1]}),
            ("DELETE", f"/api/clusters/{cid}/servers", {"server_ids": [1]})):
        r = viewer.call(method, path, json_body=body)
        assert r.status_code == 403, (method, path)
    r = operator.post("/api/clusters", {"name": f"o-{tag()}"})
    assert r.status_code == 201
    assert operator.patch(f"/api/clusters/{r.json()['id']}",
                          {"description": "ok"}).status_code == 200
    assert operator.delete(f"/api/clusters/{r.json()['id']}"
                           ).status_code == 204
    assert admin.get("/api/clusters", token=None).status_code == 401
    admin.delete(f"/api/clusters/{cid}")


def test_changes_are_audited(admin):
    cid = admin.post("/api/clusters", {"name": f"a-{tag()}"}).json()["id"]
    admin.patch(f"/api/clusters/{cid}", {"description": "d"})
    admin.post(f"/api/clusters/{cid}/servers", {"server_ids": [987654321]})
    admin.delete(f"/api/clusters/{cid}")
    want = {("cluster.create", "success"), ("cluster.update", "success"),
            ("cluster.members_add", "failure"),
            ("cluster.delete", "success")}

    def seen():
        got = {(e["action"], e["result"]) for e in admin.get(
            "/api/audit", params={"target": f"cluster:{cid}",
                                  "limit": "100"}).json()["items"]}
        return want <= got and got
    wait_for(seen, what="audit entries")
    rows = admin.get("/api/audit", params={"target": f"cluster:{cid}",
                                           "limit": "100"}).json()["items"]
    upd = [e for e in rows if e["action"] == "cluster.update"][0]
    assert upd["service"] == "cluster-mgmt" and upd["actor"] == "admin"
    assert upd["details"]["fields"] == ["description"]


def test_internal_routes_need_a_service_token(admin):
    tok = service_token()
    h = {"Authorization": f"Bearer {tok}"}
    r = requests.get(f"{SM}/internal/servers", params={"limit": "2"},
                     headers=h, timeout=5)
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["items"]) <= 2
    first = page["items"][0]
    assert set(first) == {"id", "name", "bmc_address", "labels",
                          "power_state", "status", "has_credentials",
                          "monitoring"}
    if page["next_after"] is not None:
        nxt = requests.get(f"{SM}/internal/servers",
                           params={"after": page["next_after"]},
                           headers=h, timeout=5).json()
        assert all(s["id"] > page["next_after"] for s in nxt["items"])
    assert requests.get(f"{SM}/internal/servers", params={"limit": "0"},
                        headers=h, timeout=5).status_code == 400
    for url in (f"{SM}/internal/servers", f"{CM}/internal/clusters/membership"):
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url, timeout=5, headers={
            "Authorization": f"Bearer {admin.token}"}).status_code == 403
    r = requests.get(f"{CM}/internal/clusters/membership", headers=h,
                     timeout=5)
    assert r.status_code == 200 and "servers" in r.json()
    assert admin.get("/internal/clusters/membership",
                     check=False).status_code == 404


def test_discovery_carries_the_clusters(admin):
    t = tag()
    base = NOTHING_PORT + 14000 + secrets.randbelow(3000)
    sid = make_server(admin, {"t": t}, base)
    a = admin.post("/api/clusters", {"name": f"sd-a-{t}",
                                     "selector": f"t={t}"}).json()["id"]
    b = admin.post("/api/clusters", {"name": f"sd-b-{t}"}).json()["id"]
    admin.post(f"/api/clusters/{b}/servers", {"server_ids": [sid]})
    url = f"{SM}/internal/prometheus/targets"

    def labels():
        for g in requests.get(url, timeout=5).json():
            if g["labels"]["server_id"] == str(sid):
                return g["labels"]["clusters"]
        return None
    # ",a,b," (sorted), whatever other clusters hold it too.
    assert wait_for(lambda: f",sd-a-{t},sd-b-{t}," in (labels() or ""),
                    timeout=20, what="clusters in discovery")
    admin.delete(f"/api/clusters/{a}")
    admin.delete(f"/api/clusters/{b}")
    assert wait_for(lambda: f"sd-a-{t}" not in labels() and
                    f"sd-b-{t}" not in labels(), timeout=20,
                    what="no clusters")
    admin.delete(f"/api/servers/{sid}")

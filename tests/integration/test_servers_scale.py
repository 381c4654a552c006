"""The servers list at fleet scale: cursor pages, q= search, label
selectors, totals (exact or estimated), statistics kept by the writes, bulk
import by batches."""
import json
import secrets

import pytest

from conftest import psql, redis, wait_for


def _import(api, rows):
    r = api.post("/api/servers/import", rows)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["rows"]) == len(rows)
    assert [x["row"] for x in body["rows"]] == list(range(len(rows)))
    return body


def _rows(tag, n, start=0, **extra):
    return [{"name": f"{tag}-{i:04d}",
             "bmc_address": f"10.{200 + (start + i) // 65536 % 50}."
                            f"{(start + i) // 256 % 256}.{(start + i) % 256}",
             "monitoring": False, **extra} for i in range(start, start + n)]


def _drop(tag):
    psql(f"DELETE FROM server_mgmt.servers WHERE name LIKE '{tag}-%'")


def _walk(api, params, between=None):
    """Every page by cursor; between(i) runs after page i."""
    ids, cursor, pages = [], None, 0
    while True:
        p = dict(params)
        if cursor:
            p["cursor"] = cursor
        r = api.get("/api/servers", params=p)
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        pages += 1
        if between:
            between(pages)
        if not cursor:
            return ids, pages


@pytest.fixture
def tag():
    t = "scl" + secrets.token_hex(3)
    yield t
    _drop(t)


@pytest.mark.parametrize("sort", ["id", "-id", "name", "-name", "status",
                                  "-last_seen", "created_at"])
def test_cursor_pages_every_row_once_while_inserting(admin, tag, sort):
    made = {r["id"] for r in _import(admin, _rows(tag, 40))["rows"]}
    added = []

    def insert(page):
        r = admin.post("/api/servers", _rows(tag, 1, start=100 + page)[0])
        assert r.status_code == 201
        added.append(r.json()["id"])
    ids, pages = _walk(admin, {"q": tag, "sort": sort, "limit": "6"},
                       insert)
    assert pages >= 7
    assert len(ids) == len(set(ids)), "a row came twice"
    assert made <= set(ids), "a row present all along was skipped"
    assert set(ids) <= made | set(added)


def test_list_items_read_as_single_reads(admin, tag):
    r = admin.post("/api/servers", dict(_rows(tag, 1)[0], labels={
        "rack": "r1"}, cluster="c", workarounds=["intel20"]))
    created = r.json()
    item = admin.get("/api/servers", params={"q": tag}).json()["items"][0]
    assert item == created
    assert admin.get(f"/api/servers/{created['id']}").json() == created


def test_search_and_label_selectors(admin, tag):
    rows = _rows(tag, 6)
    for i, r in enumerate(rows):
        r["labels"] = {"rack": f"r{i % 3}",
                       "role": ("web", "db", "lab")[i % 3]}
        if i == 5:
            r["labels"]["gpu"] = "a100"
    ids = [x["id"] for x in _import(admin, rows)["rows"]]
    psql(f"UPDATE server_mgmt.servers SET serial = 'SER-{tag}-X' "
         f"WHERE id = {ids[4]}")

    def found(**params):
        r = admin.get("/api/servers", params=dict(params, limit="100"))
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["items"]} & set(ids)
    assert found(q=tag.upper()) == set(ids)
    assert found(q=f"{tag}-0003") == {ids[3]}
    assert found(q=rows[2]["bmc_address"]) == {ids[2]}
    assert found(q=f"ser-{tag}") == {ids[4]}
    assert found(q="gpu=a100", name=tag) == {ids[5]}
    assert found(q="%", name=tag) == set()  # LIKE text is literal
    sel = {
        "rack=r1": {ids[1], ids[4]},
        "rack==r1,role=db": {ids[1], ids[4]},
        "rack=r1,role!=db": set(),
        "role!=lab": {ids[0], ids[1], ids[3], ids[4]},
        "role in (web, lab)": {ids[0], ids[2], ids[3], ids[5]},
        "role notin (web,lab)": {ids[1], ids[4]},
        "gpu": {ids[5]},
        "!gpu,rack=r2": {ids[2]},
        "rack in (r0),role in (web)": {ids[0], ids[3]},
    }
    for s, want in sel.items():
        assert found(labels=s, name=tag) == want, s
    assert found(labels="rack=r0", label="role=web", name=tag) == \
        {ids[0], ids[3]}
    for bad in ("", "rack in ()", "rack=r1,", "ra-ck=1", "a in (b",
                "rack=a b", "x" * 70):
        r = admin.get("/api/servers", params={"labels": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["field"] == "labels"


def test_bad_cursors_and_search_are_named(admin, tag):
    _import(admin, _rows(tag, 3))
    cur = admin.get("/api/servers", params={"limit": "1", "sort": "name"}
                    ).json()["next_cursor"]
    assert cur
    for params in ({"cursor": "garbage!"}, {"cursor": cur},
                   {"cursor": cur, "sort": "name", "offset": "1"},
                   {"cursor": cur + "x", "sort": "name"}):
        r = admin.get("/api/servers", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]["field"] == "cursor"
    r = admin.get("/api/servers", params={"q": ""})
    assert r.status_code == 400 and r.json()["error"]["field"] == "q"
    r = admin.get("/api/servers", params={"cursor": cur, "sort": "name"})
    assert r.status_code == 200


def test_totals_exact_or_estimated(admin, tag):
    body = _import(admin, _rows(tag, 1100, labels={"batch": tag}))
    assert body["created"] == 1100 and body["failed"] == 0
    every = admin.get("/api/servers", params={"limit": "1"}).json()
    assert every["total_estimated"] is False
    assert every["total"] == int(psql("SELECT count(*) FROM "
                                      "server_mgmt.servers"))
    many = admin.get("/api/servers", params={"labels": f"batch={tag}",
                                             "limit": "1"}).json()
    assert many["total_estimated"] is True and many["total"] > 1000
    few = admin.get("/api/servers", params={"q": f"{tag}-00",
                                            "limit": "1"}).json()
    assert few["total_estimated"] is False and few["total"] == 100
    # The import answered a row each, duplicates included.
    again = _import(admin, _rows(tag, 3) + _rows(tag, 1, start=5000))
    assert [x["status"] for x in again["rows"]] == ["error"] * 3 + \
        ["created"]
    assert again["rows"][0]["error"]["field"] == "name"


def _stats(api):
    r = api.get("/api/servers/stats")
    assert r.status_code == 200
    return r.json()


def _stats_by_sql():
    total = int(psql("SELECT count(*) FROM server_mgmt.servers"))
    by = dict(x.split("|") for x in psql(
        "SELECT status, count(*) FROM server_mgmt.servers GROUP BY 1"
    ).split("\n") if x)
    return total, {k: int(v) for k, v in by.items()}


def test_stats_kept_current_by_writes(admin, tag):
    before = _stats(admin)
    r = admin.post("/api/servers", _rows(tag, 1)[0])
    sid = r.json()["id"]
    s = _stats(admin)
    assert s["total"] == before["total"] + 1
    assert s["by_status"]["unknown"] == \
        before["by_status"].get("unknown", 0) + 1
    admin.patch(f"/api/servers/{sid}", {"cluster": tag})
    assert _stats(admin)["by_cluster"][tag] == 1
    _import(admin, _rows(tag, 3, start=10, cluster=tag))
    s = _stats(admin)
    assert s["by_cluster"][tag] == 4 and s["total"] == before["total"] + 4
    assert admin.delete(f"/api/servers/{sid}").status_code == 204
    s = _stats(admin)
    assert s["by_cluster"][tag] == 3 and s["total"] == before["total"] + 3
    # The poller changes statuses meanwhile: agreement comes soon.
    wait_for(lambda: (lambda s, t: s["total"] == t[0] and
                      s["by_status"] == t[1])(_stats(admin),
                                              _stats_by_sql()),
             what="stats as SQL counts them")
    _drop(tag)  # not through the API: seen once kept answers expire
    wait_for(lambda: tag not in _stats(admin)["by_cluster"],
             what="stats after rows deleted by SQL")


@pytest.fixture
def kept_long():
    """server-mgmt keeping answers for a minute (the most it allows):
    whatever is seen fresh meanwhile was dropped, not expired."""
    from test_overload import start_server_mgmt
    try:
        start_server_mgmt({"OSH_LIST_CACHE_MS": "60000"})
        yield
    finally:
        start_server_mgmt({})


def test_single_reads_kept_until_a_write_says(admin, viewer, tag, kept_long):
    sid = admin.post("/api/servers", _rows(tag, 1)[0]).json()["id"]
    path = f"/api/servers/{sid}"
    assert viewer.get(path).json()["description"] == ""
    # Kept: the same for every reader, still checked for each.
    psql(f"UPDATE server_mgmt.servers SET description = 'sql' "
         f"WHERE id = {sid}")
    assert viewer.get(path).json()["description"] == ""
    assert admin.get(path).json()["description"] == ""
    assert viewer.get(path, token=None).status_code == 401
    assert viewer.get(path, token="x.y.z").status_code == 401
    # Another replica's write, told by its event: dropped.
    redis("PUBLISH", "osh:events", json.dumps(
        {"type": "server.updated", "ts": "2026-01-01T00:00:00Z",
         "source": "server-mgmt", "data": {"id": sid}}))
    wait_for(lambda: viewer.get(path).json()["description"] == "sql",
             what="the kept answer dropped by the event")
    # This process's own write: dropped at once, the list too.
    admin.patch(path, {"description": "api"})
    assert viewer.get(path).json()["description"] == "api"
    assert admin.get("/api/servers", params={"q": tag}).json()[
        "items"][0]["description"] == "api"
    assert admin.delete(path).status_code == 204
    assert viewer.get(path).status_code == 404

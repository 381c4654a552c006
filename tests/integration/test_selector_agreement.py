"""One label selector, the same answers everywhere: every selector of
tests/unit/selector_cases.json (whose expected matches
tests/unit/test_selector.c checks against libcommon's osh_selector_match)
selects the same label sets through GET /api/servers?labels= (server-mgmt's
GIN translation and labels_selected) and through a cluster's selector
membership (cluster-mgmt's selector_match over its read model). Selectors
that one service refuses the other refuses too, at the same position."""
import json
import re
import secrets
from pathlib import Path

from conftest import NOTHING_PORT, wait_for

TABLE = json.loads((Path(__file__).resolve().parents[1] / "unit" /
                    "selector_cases.json").read_text())


def test_servers_and_clusters_select_as_the_c_matcher(admin):
    t = secrets.token_hex(4)
    base = NOTHING_PORT + 9500 + secrets.randbelow(3000)
    ids = {}
    for i, (name, labels) in enumerate(TABLE["labels"].items()):
        r = admin.post("/api/servers", {
            "name": f"agree-{t}-{name}",
            "bmc_address": f"127.0.0.3:{base + i}",
            "labels": dict(labels, t=t)})
        assert r.status_code == 201, r.text
        ids[r.json()["id"]] = name
    clusters = {}
    try:
        for case in TABLE["cases"]:
            sel = f"t={t},{case['selector']}"
            want = sorted(case["match"])
            r = admin.get("/api/servers", params={"labels": sel,
                                                  "limit": "100"})
            assert r.status_code == 200, (sel, r.text)
            got = sorted(ids[s["id"]] for s in r.json()["items"])
            assert got == want, f"server-mgmt, {sel!r}"
            r = admin.post("/api/clusters", {
                "name": f"agree-{t}-{len(clusters)}", "selector": sel})
            assert r.status_code == 201, (sel, r.text)
            clusters[r.json()["id"]] = (sel, want)

        def members(cid):
            r = admin.get(f"/api/clusters/{cid}/servers",
                          params={"limit": "1000"})
            assert r.status_code == 200, r.text
            return sorted(ids[s["id"]] for s in r.json()["items"])
        for cid, (sel, want) in clusters.items():
            wait_for(lambda: members(cid) == want,
                     what=f"cluster-mgmt, {sel!r}")
    finally:
        for cid in clusters:
            admin.delete(f"/api/clusters/{cid}")
        for sid in ids:
            admin.delete(f"/api/servers/{sid}")


def test_both_refuse_the_same_selectors_at_the_same_place(admin):
    for bad in ("rack in ()", "rack=r1,", "ra-ck=1", "a in (b", "rack=a b",
                "x" * 70, "1a=b", "app.kubernetes.io/name=x", "a=\u0085",
                "!", "a b", "a in (" + ",".join("v%d" % i for i in range(65))
                + ")"):
        r = admin.get("/api/servers", params={"labels": bad})
        assert r.status_code == 400, bad
        err = r.json()["error"]
        assert err["field"] == "labels", bad
        sm = re.search(r"position (\d+)", err["message"])
        r = admin.post("/api/clusters", {"name": "refused",
                                         "selector": bad})
        assert r.status_code == 400, bad
        cerr = r.json()["error"]
        assert cerr["field"] == "selector", bad
        cm = re.search(r"position (\d+)", cerr["message"])
        assert sm and cm and sm.group(1) == cm.group(1), (bad, err, cerr)

"""proto/openapi.yaml and the services' route tables describe the same API:
every public route is documented, every documented path is routed."""
import re

from conftest import OPENAPI, TOP

ROUTE = re.compile(r'\{\s*OSH_(GET|POST|PUT|PATCH|DELETE),\s*"(/api/[^"]+)"')


def routes():
    found = set()
    for f in (TOP / "services").glob("*/routes.c"):
        for method, path in ROUTE.findall(f.read_text()):
            found.add((method.lower(), path))
    return found


def documented():
    out = set()
    for path, ops in OPENAPI.spec["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                out.add((method, path))
    return out


def test_every_route_is_documented():
    missing = routes() - documented()
    assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"


def test_every_documented_operation_is_routed():
    extra = documented() - routes()
    assert not extra, f"documented but not routed: {sorted(extra)}"


def test_every_operation_documents_its_errors():
    for path, ops in OPENAPI.spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            codes = set(op["responses"])
            if op.get("security", None) != []:
                assert "401" in codes, f"{method} {path} lacks 401"

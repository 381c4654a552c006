"""Migrations only move forward, and each is safe while the release before
it still runs (README.md, "Operations"): checked over the files, no
database needed (tests/integration/test_upgrade.py applies them to data).

- Forward only: services/<svc>/migrations/NNN_name.sql numbered 001, 002,
  ... with no gap and no down migrations; a migration once released is
  never changed (tests/deploy/migrations.sha256 holds the digest of each
  released one; a new migration comes after every listed one of its
  service, and is listed when it is released).
- Expand, then contract: a statement that breaks the release before
  (which still reads and writes the tables during a rolling upgrade) --
  dropping or renaming a table or column, changing a column's type,
  making a column NOT NULL, adding a NOT NULL column without a default,
  adding a constraint, dropping a function or view -- is allowed only in
  a migration that says why it is safe now, in a line
  "-- contract: <which release stopped relying on it>". Migrations
  released before this rule are judged below, one by one."""
import hashlib
import re
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.parent.name for p in
                  TOP.glob("services/*/migrations/001_*.sql"))
SUMS = TOP / "tests" / "deploy" / "migrations.sha256"

BREAKING = [
    (r"\bDROP\s+COLUMN\b", "drops a column"),
    (r"\bDROP\s+TABLE\b", "drops a table"),
    (r"\bRENAME\b", "renames"),
    (r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b",
     "changes a column's type"),
    (r"\bSET\s+NOT\s+NULL\b", "makes a column NOT NULL"),
    (r"\bADD\s+(COLUMN\s+)?(?:(?!\bDEFAULT\b)[^,;])*\bNOT\s+NULL\b"
     r"(?:(?!\bDEFAULT\b)[^,;])*[,;]", "adds a NOT NULL column without a "
     "default"),
    (r"\bADD\s+CONSTRAINT\b", "adds a constraint"),
    (r"\bDROP\s+(FUNCTION|VIEW)\b", "drops a function or view"),
]

# Released before the rule, each judged by hand.
JUDGED = {
    ("auth", "002_user_json_column.sql"):
        "json NOT NULL, but a BEFORE INSERT OR UPDATE trigger fills it: the "
        "release before, which does not know the column, keeps writing",
    ("auth", "003_username_key.sql"):
        "username_key NOT NULL: the release before's inserts lack it. "
        "004 adds the trigger that fills it (applied with 003 by one "
        "start, so the window between the two is one start's migration)",
}


def migrations(svc):
    return sorted((TOP / "services" / svc / "migrations").iterdir())


def code_of(sql):
    """The statements without comments, string literals and dollar-quoted
    bodies (function bodies are code of their own, not DDL)."""
    sql = re.sub(r"\$([A-Za-z_]*)\$.*?\$\1\$", " ", sql, flags=re.S)
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)


def released():
    out = {}
    for line in SUMS.read_text().splitlines():
        digest, path = line.split()
        svc, _, name = path.split("/")
        out[(svc, name)] = digest
    return out


def test_services_found():
    assert len(SERVICES) >= 4, SERVICES


@pytest.mark.parametrize("svc", SERVICES)
def test_numbered_forward_only(svc):
    files = migrations(svc)
    for i, f in enumerate(files, 1):
        m = re.fullmatch(r"(\d{3})_[a-z0-9_]+\.sql", f.name)
        assert m, f"{svc}: {f.name} is not NNN_name.sql"
        assert int(m[1]) == i, f"{svc}: {f.name}: expected number {i:03d}"
        assert not re.search(r"(?i)down|revert|rollback", f.stem), f


@pytest.mark.parametrize("svc", SERVICES)
def test_released_migrations_unchanged(svc):
    rel = {name: d for (s, name), d in released().items() if s == svc}
    files = {f.name: f for f in migrations(svc)}
    for name, digest in rel.items():
        assert name in files, f"{svc}: released migration {name} is gone"
        got = hashlib.sha256(files[name].read_bytes()).hexdigest()
        assert got == digest, (
            f"{svc}: {name} was released and has changed: write a new "
            "migration instead")
    last = max(rel) if rel else ""
    for name in files:
        if name not in rel:
            assert name > last, f"{svc}: {name} comes before released {last}"


def test_breaking_patterns_are_found():
    """The checker itself, on statements it must and must not flag."""
    def flags(sql):
        return [w for p, w in BREAKING if re.search(p, code_of(sql), re.I)]
    assert flags("ALTER TABLE t DROP COLUMN a;")
    assert flags("ALTER TABLE t RENAME COLUMN a TO b;")
    assert flags("ALTER TABLE t ALTER COLUMN a TYPE bigint;")
    assert flags("ALTER TABLE t ALTER COLUMN a SET NOT NULL;")
    assert flags("ALTER TABLE t ADD COLUMN a int NOT NULL;")
    assert flags("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);")
    assert not flags("ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;")
    assert not flags("ALTER TABLE t ADD COLUMN a int;")
    assert not flags("CREATE TABLE t (a int NOT NULL);")
    assert not flags("-- DROP COLUMN in a comment\nSELECT 'RENAME';")
    assert not flags("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS "
                     "$$ SELECT 1 $$;")


@pytest.mark.parametrize("svc", SERVICES)
def test_expand_then_contract(svc):
    for f in migrations(svc)[1:]:  # 001 creates the schema: nothing before
        text = f.read_text()
        code = code_of(text)
        found = [why for p, why in BREAKING if re.search(p, code, re.I)]
        if not found:
            continue
        if re.search(r"^--\s*contract:\s*\S", text, re.M):
            continue
        assert (svc, f.name) in JUDGED, (
            f"{svc}/{f.name} {', '.join(found)}: the release before still "
            "runs during an upgrade. Expand now (add, backfill, keep both "
            "working) and contract in a later release, or say why it is "
            "safe in a '-- contract:' line")


def test_judged_are_still_flagged():
    """No stale judgement: each names a migration the checker flags."""
    for svc, name in JUDGED:
        code = code_of((TOP / "services" / svc / "migrations" / name)
                       .read_text())
        assert any(re.search(p, code, re.I) for p, _ in BREAKING), name

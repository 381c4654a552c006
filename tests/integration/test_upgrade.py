"""Upgrades: every migration applied to a database holding data of the
release before it. For each service schema and each migration k > 1, a
scratch schema is built with migrations 1..k-1 (the previous release),
filled with this stack's live data (every column the two have in common,
so rows other tests made are the data), then migration k is applied the
way the services apply it (one transaction, search_path set to the
schema). Every row must survive, and after the last one the scratch
schema must have the same tables, columns and indexes as the live schema
that was migrated from nothing."""
import os
import subprocess

import pytest

from conftest import PG_PORT, TOP

SERVICES = {"auth": "auth", "server_mgmt": "server-mgmt",
            "cluster_mgmt": "cluster-mgmt", "alert_webhook": "alert-webhook"}


def su(sql):
    """psql as the superuser (the stack's initdb made postgres), over the
    socket: what a scratch schema needs, and copies that skip triggers."""
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "/tmp",
           "-p", str(PG_PORT), "-U", "postgres", "-d", "osh"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return [ln for ln in out.stdout.splitlines() if ln]


def apply(schema, path, version):
    su("SET client_min_messages = warning;\nBEGIN;\n"
       f"SET LOCAL search_path TO {schema};\n{path.read_text()}\n;\n"
       f"INSERT INTO {schema}.schema_migrations (version, name) VALUES "
       f"({version}, '{path.stem}');\nCOMMIT;\n")


def tables(schema):
    return su("SELECT table_name FROM information_schema.tables WHERE "
              f"table_schema = '{schema}' AND table_type = 'BASE TABLE' "
              "AND table_name <> 'schema_migrations' ORDER BY 1")


def columns(schema, table=None):
    where = f" AND table_name = '{table}'" if table else ""
    return su("SELECT table_name || '.' || column_name || ' ' || data_type "
              "|| ' ' || is_nullable || ' ' || is_generated FROM "
              f"information_schema.columns WHERE table_schema = '{schema}' "
              f"{where} ORDER BY 1")


def indexes(schema):
    return su("SELECT tablename || '.' || indexname FROM pg_indexes WHERE "
              f"schemaname = '{schema}' ORDER BY 1")


def counts(schema, names):
    if not names:
        return {}
    rows = su(" UNION ALL ".join(
        f"SELECT '{t}' || ' ' || count(*) FROM {schema}.{t}" for t in names))
    return {r.split()[0]: int(r.split()[1]) for r in rows}


def fill(scratch, live):
    """Copies the live rows into the older schema: common columns only,
    triggers and foreign key checks off (session_replication_role), as
    rows written by the previous release would be."""
    def by_table(schema):
        out = {}
        for c in columns(schema):
            name, generated = c.split()[0], c.split()[-1]
            t, col = name.split(".", 1)
            out.setdefault(t, {})[col] = generated
        return out

    old, new = by_table(scratch), by_table(live)
    stmts = ["SET session_replication_role = replica;"]
    for t in tables(scratch):
        if t not in new:
            continue
        common = [c for c, g in old[t].items() if c in new[t] and
                  g == "NEVER"]
        cols = ", ".join(f'"{c}"' for c in common)
        # Rows a migration seeds (singletons) give way to the live ones;
        # rows a later key splits (server_counts' slots, server-mgmt 007)
        # come once.
        stmts.append(f"DELETE FROM {scratch}.{t};")
        stmts.append(f"INSERT INTO {scratch}.{t} ({cols}) SELECT {cols} "
                     f"FROM {live}.{t} ON CONFLICT DO NOTHING;")
    su("\n".join(stmts))


@pytest.mark.parametrize("schema", sorted(SERVICES))
def test_each_migration_over_previous_release_data(schema):
    mdir = TOP / "services" / SERVICES[schema] / "migrations"
    files = sorted(mdir.glob("*.sql"))
    assert files
    scratch = f"upg_{schema}"
    try:
        for k in range(1, len(files)):
            su(f"SET client_min_messages = warning;\nDROP SCHEMA IF EXISTS "
               f"{scratch} CASCADE;\nCREATE SCHEMA {scratch};\nCREATE "
               f"TABLE {scratch}.schema_migrations (version integer PRIMARY"
               " KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
               "DEFAULT now());")
            for i, f in enumerate(files[:k], 1):
                apply(scratch, f, i)  # the previous release
            fill(scratch, schema)
            before = counts(scratch, tables(scratch))
            assert sum(before.values()) > 0, "no data to upgrade"
            apply(scratch, files[k], k + 1)
            after = counts(scratch, [t for t in before
                                     if t in tables(scratch)])
            for t, n in after.items():
                assert n >= before[t], f"{files[k].name}: {t} lost rows"
        # Upgraded step by step = migrated from nothing.
        assert columns(scratch) == columns(schema)
        assert indexes(scratch) == indexes(schema)
    finally:
        su(f"SET client_min_messages = warning;\nDROP SCHEMA IF EXISTS "
           f"{scratch} CASCADE;")


def test_older_release_writes_users_without_username_key():
    """auth 003 made username_key NOT NULL; the release before it inserts
    and renames users without the column, which 004's trigger fills."""
    out = su("BEGIN;\nSET LOCAL search_path TO auth;\n"
             "INSERT INTO auth.users (username, role, password_hash) VALUES "
             "('Older-Release', 'viewer', 'x') RETURNING username_key;\n"
             "UPDATE auth.users SET username = 'Renamed-By-Older' WHERE "
             "username = 'Older-Release' RETURNING username_key;\n"
             "ROLLBACK;")
    assert out == ["older-release", "renamed-by-older"]

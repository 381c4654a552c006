"""The local stack keeps its secrets: every file holding one is 0600 in a
0700 directory, no secret ever appears on a command line, and each
service logs in to PostgreSQL as a role of its own that can use only its
own schema."""
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from conftest import PG_PORT, RUN, TOP, login, psql

DB_SERVICES = {"auth": "auth", "server-mgmt": "server_mgmt",
               "cluster-mgmt": "cluster_mgmt"}
# Trees whose files are not the stack's own secrets (PostgreSQL keeps its
# data dir 0700 itself; the simulated BMCs are fixtures).
SKIP = {"pg", "prometheus", "sim", "fleet"}


def known_secrets(admin_password):
    """Every secret of the stack: name -> value."""
    out = {"admin-password": admin_password}
    for p in (RUN / "secrets").iterdir():
        text = p.read_text().strip()
        if p.name == "credential-keys":
            text = text.split(":", 1)[1].strip()
        elif p.suffix == ".pem":
            if "PRIVATE" not in text:
                continue
            text = text.splitlines()[1]  # a line of the key itself
        out[p.name] = text
    return {k: v for k, v in out.items() if len(v) >= 16}


def private(path):
    return stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0


def test_secret_files_are_private(admin_password):
    secrets_dir = RUN / "secrets"
    assert not secrets_dir.is_symlink()
    assert private(secrets_dir), oct(secrets_dir.stat().st_mode)
    for p in secrets_dir.iterdir():
        assert private(p), (p, oct(p.stat().st_mode))
    for name in ("admin-password", "ipmi-exporter.yml", "redis/redis.conf"):
        assert private(RUN / name), name
    assert private(RUN / "redis")
    # Any other file that holds a secret must be private too.
    values = known_secrets(admin_password)
    found = []
    for root, dirs, files in os.walk(RUN):
        rel = Path(root).relative_to(RUN)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP]
        for f in files:
            p = Path(root) / f
            if p.is_symlink() or not p.is_file() or \
                    p.stat().st_size > 4 << 20:
                continue
            data = p.read_bytes()
            held = [k for k, v in values.items() if v.encode() in data]
            if held:
                found.append(p)
                assert private(p), (p, held, oct(p.stat().st_mode))
    assert RUN / "redis" / "redis.conf" in found


def test_private_dirs_are_not_predictable():
    # The data dir lives under run/pg, or (when the postgres user cannot
    # reach the checkout) in a mktemp directory run/pg links to.
    pg = RUN / "pg"
    if pg.is_symlink():
        target = Path(os.readlink(pg))
        assert target.name.startswith("osh-pg.")
        assert "-" not in target.name  # not the old osh-pg-<md5>
    assert private(pg.resolve())


def cmdlines():
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            yield d.name, (d / "cmdline").read_bytes()
        except OSError:
            continue


def test_no_secret_on_a_command_line(admin_password, admin):
    values = known_secrets(admin_password)
    values["access-token"] = admin.token
    values["refresh-token"] = login("admin", admin_password)[
        "refresh_token"]
    # Watch every process while the stack runs 'up' again (it re-applies
    # the database roles and passwords, writes its files, reloads nginx
    # and Prometheus), and then the processes left running.
    seen = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for pid, line in cmdlines():
                for k, v in values.items():
                    if v.encode() in line:
                        seen[(pid, k)] = line.replace(b"\0", b" ")[:300]

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        out = subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"),
                              "up"], capture_output=True, text=True,
                             timeout=300, env=os.environ)
        assert out.returncode == 0, out.stderr
        time.sleep(0.5)
    finally:
        done.set()
        t.join()
    for _, line in cmdlines():
        for k, v in values.items():
            assert v.encode() not in line, k
    assert not seen, {k: v for k, v in seen.items()}


def connect(service):
    role = "osh_" + DB_SERVICES[service]
    pw = (RUN / "secrets" / f"db-{service}-password").read_text().strip()
    return psycopg2.connect(host="127.0.0.1", port=PG_PORT, dbname="osh",
                            user=role, password=pw, connect_timeout=10)


def refused(conn, sql):
    """True when the statement is refused for want of privileges."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
        except psycopg2.errors.InsufficientPrivilege:
            conn.rollback()
            return True
    conn.rollback()
    return False


@pytest.mark.parametrize("me,other", [("server-mgmt", "auth"),
                                      ("auth", "server-mgmt"),
                                      ("cluster-mgmt", "server-mgmt"),
                                      ("server-mgmt", "cluster-mgmt")])
def test_a_service_role_uses_only_its_own_schema(me, other):
    mine, theirs = DB_SERVICES[me], DB_SERVICES[other]
    table = {"auth": "users", "server_mgmt": "servers",
             "cluster_mgmt": "clusters"}
    conn = connect(me)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {mine}.{table[mine]}")
            cur.execute(f"SELECT max(version) FROM {mine}.schema_migrations")
            assert cur.fetchone()[0] >= 1
        conn.rollback()
        assert refused(conn, f"SELECT * FROM {theirs}.{table[theirs]}")
        assert refused(conn, f"SELECT * FROM {theirs}.schema_migrations")
        assert refused(conn, f"CREATE TABLE {theirs}.intruder (i int)")
        assert refused(conn, "CREATE TABLE public.intruder (i int)")
        assert refused(conn, "CREATE SCHEMA intruder")
    finally:
        conn.close()


def test_services_log_in_as_their_own_roles():
    users = set(psql("SELECT DISTINCT usename FROM pg_stat_activity "
                     "WHERE datname = 'osh'").split())
    assert {"osh_auth", "osh_server_mgmt", "osh_cluster_mgmt"} <= users, \
        users
    # PUBLIC may not even connect.
    assert psql("SELECT has_database_privilege('public', 'osh', 'CONNECT')"
                ) == "f"
    assert psql("SELECT has_schema_privilege('public', 'public', 'USAGE')"
                ) == "f"

"""osh-admin backup and restore (deploy/admin/osh-admin): back up a stack
holding a server, a user, a cluster, a finished job, an alert and a
revoked session (to a file, and to standard output); wipe the service
schemas and Redis; restore (from standard input); and find
each back and usable: the server's sealed credentials still drive its BMC,
the user logs in, the revoked token stays refused."""
import io
import os
import pty
import secrets
import stat
import subprocess
import tarfile
from datetime import datetime, timezone

import pytest

from conftest import (Api, PORTS, RUN, TOP, login, psql, redis,
                      wait_for)
from test_alerts import alert, fp, post

ADMIN = str(TOP / "deploy" / "admin" / "osh-admin")
SERVICES = ("auth", "server-mgmt", "cluster-mgmt", "alert-webhook",
            "ipmi-exporter")


def osh_admin(*args, check=True, text=True, **kw):
    env = kw.pop("env", dict(os.environ, OSH_RUN_DIR=str(RUN)))
    kw.setdefault("capture_output", True)
    out = subprocess.run([ADMIN, *args], text=text, env=env, timeout=120,
                         **kw)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def stop(services=SERVICES):
    pids = {svc: int((RUN / "pids" / f"{svc}.pid").read_text())
            for svc in services}
    for pid in pids.values():
        os.kill(pid, 15)
    for svc, pid in pids.items():
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                 open(f"/proc/{pid}/stat").read().split()[2] == "Z",
                 timeout=30, what=f"{svc} stopped")
        # A zombie not reaped yet still answers kill -0: stack.sh would
        # take it for running.
        (RUN / "pids" / f"{svc}.pid").unlink()


def start(services=SERVICES):
    out = subprocess.run(["bash", str(TOP / "deploy" / "local" / "stack.sh"),
                          "start", *services], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr


def restart(services=SERVICES):
    stop(services)
    start(services)


def power(api, sid):
    r = api.get(f"/api/servers/{sid}/power")
    return r.json()["power_state"] if r.status_code == 200 else r.status_code


def test_backup_wipe_restore(admin, make_user, tmp_path):
    # State of every kind.
    sim1 = next(s for s in admin.get("/api/servers", params={
        "name": "sim-1"}).json()["items"] if s["name"] == "sim-1")
    wait_for(lambda: power(admin, sim1["id"]) in ("on", "off"), timeout=30,
             what="sim-1 answers")
    user, pw, _ = make_user("operator")
    gone = login(user["username"], pw)
    r = Api(gone["access_token"]).post(
        "/api/auth/logout", {"refresh_token": gone["refresh_token"]})
    assert r.status_code == 204
    cname = f"bk-{secrets.token_hex(3)}"
    r = admin.post("/api/clusters", {"name": cname})
    assert r.status_code == 201, r.text
    cluster = r.json()
    r = admin.post("/api/jobs", {"action": "on",
                                 "targets": {"server_ids": [sim1["id"]]}})
    assert r.status_code == 201, r.text
    job = wait_for(lambda: (lambda j: j if j["state"] in (
        "succeeded", "failed") else None)(
        admin.get(f"/api/jobs/{r.json()['id']}").json()), timeout=60,
        what="job finished")
    f = fp()
    assert post([alert(f, datetime.now(timezone.utc),
                       alertname="BackupTest")]).status_code == 200
    alerts = wait_for(lambda: [a for a in admin.get(
        "/api/monitoring/alerts", params={"state": "firing"}).json()[
        "items"] if a.get("fingerprint") == f], what="alert stored")

    path = tmp_path / "osh.backup"
    osh_admin("backup", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with tarfile.open(path) as tar:
        assert "credential-keys" not in tar.getnames()
        assert {"manifest.json", "pg.dump", "redis.jsonl"} <= \
            set(tar.getnames())

    # The same through a pipe (out of a container): standard output,
    # never a terminal.
    piped = osh_admin("backup", "-", text=False).stdout
    with tarfile.open(fileobj=io.BytesIO(piped)) as tar:
        assert set(tar.getnames()) == {"manifest.json", "pg.dump",
                                       "redis.jsonl"}
    master, slave = pty.openpty()
    try:
        out = osh_admin("backup", "-", check=False, stdout=slave,
                        stderr=subprocess.PIPE, capture_output=False)
    finally:
        os.close(master)
        os.close(slave)
    assert out.returncode != 0 and "terminal" in out.stderr

    # Restore refuses while services are connected.
    out = osh_admin("restore", str(path), check=False)
    assert out.returncode != 0 and "stop them first" in out.stderr

    stop()
    try:
        psql("DROP SCHEMA auth, server_mgmt, cluster_mgmt, alert_webhook "
             "CASCADE")
        redis("FLUSHALL")
        # From standard input (the piped backup).
        out = osh_admin("restore", "-", check=False, text=False,
                        input=piped)
        assert out.returncode == 0, out.stderr
        assert b"from standard input" in out.stderr
    finally:
        start()

    # Everything back, and usable.
    fresh = Api(login("admin", (RUN / "admin-password").read_text()
                      .strip())["access_token"])
    s = fresh.get(f"/api/servers/{sim1['id']}").json()
    assert s["name"] == "sim-1" and s["bmc_address"] == sim1["bmc_address"]
    # A BMC action with the restored sealed credentials.
    wait_for(lambda: power(fresh, sim1["id"]) in ("on", "off"), timeout=30,
             what="sim-1 answers after the restore")
    r = fresh.post(f"/api/servers/{sim1['id']}/power", {"action": "on"})
    assert r.status_code in (200, 202), r.text
    login(user["username"], pw)  # the user logs in
    assert Api(gone["access_token"]).get("/api/auth/profile") \
        .status_code == 401  # the revoked session stays revoked
    assert fresh.get(f"/api/clusters/{cluster['id']}").json()["name"] == \
        cname
    back = fresh.get(f"/api/jobs/{job['id']}").json()
    assert back["state"] == job["state"] and back["total"] == 1
    a = fresh.get(f"/api/monitoring/alerts/{alerts[0]['id']}")
    assert a.status_code == 200 and a.json()["fingerprint"] == f
    # New rows do not collide with restored ones (sequences restored).
    r = fresh.post("/api/clusters", {"name": cname + "-2"})
    assert r.status_code == 201 and r.json()["id"] > cluster["id"]


def test_check_config(tmp_path):
    """check-config: the stack's settings pass; a broken credential key,
    an empty secret or a password in the conninfo fail, named, without
    the secret in the output."""
    out = osh_admin("check-config")
    assert "OSH_ADMIN_DB_CONNINFO=" in out.stdout
    assert "configuration valid" in out.stderr
    keys = tmp_path / "keys"
    keys.write_text("k1:" + "A" * 10 + "\n")
    empty = tmp_path / "secret"
    empty.write_text("\n")
    out = osh_admin("--check-config", check=False,
                    env=dict(os.environ, OSH_RUN_DIR=str(RUN),
                             OSH_CREDENTIAL_KEYS_FILE=str(keys),
                             OSH_SERVICE_SECRET_FILE=str(empty),
                             OSH_ADMIN_DB_CONNINFO="host=x password=hunter2"))
    assert out.returncode == 1
    assert "OSH_CREDENTIAL_KEYS_FILE" in out.stderr and \
        "not 32 bytes" in out.stderr
    assert f"OSH_SERVICE_SECRET_FILE: {empty}: empty" in out.stderr
    assert "holds a password" in out.stderr
    assert "hunter2" not in out.stdout + out.stderr

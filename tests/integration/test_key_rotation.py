"""Key rotation. Credentials: a new key first in OSH_CREDENTIAL_KEYS_FILE,
osh-admin rotate-credentials re-seals every server's credentials under
it (in batches, audited; a run stopped after a batch is finished by the
next, which does only what is left; a second run finds nothing left), the old key
is removed, and the BMCs still answer with the re-sealed credentials.
JWT signing key: both public keys verify (and are in the JWKS) during
the overlap."""
import base64
import os
import secrets
import subprocess

import requests

from conftest import PORTS, RUN, Api, login, psql, wait_for
from test_backup_restore import osh_admin, power, restart


def key_ids():
    return psql("SELECT DISTINCT split_part(credentials, ':', 1) FROM "
                "server_mgmt.servers WHERE credentials IS NOT NULL AND "
                "credentials_binding = 2").split()


def test_rotate_credentials(admin):
    keys = RUN / "secrets" / "credential-keys"
    old = keys.read_text()
    kid = "r" + secrets.token_hex(3)
    new = f"{kid}:{base64.b64encode(os.urandom(32)).decode()}\n"
    sids = [s["id"] for s in admin.get("/api/servers", params={
        "name": "sim-"}).json()["items"] if s["name"].startswith("sim-")]
    assert sids
    keys.write_text(new + old)  # the new key first: sealing uses it
    try:
        rotate_to(kid, sids, admin)
    finally:
        # Back to the stack's own key (other tests read it), the same way.
        keys.write_text(old + new)
        restart(["server-mgmt"])
        osh_admin("rotate-credentials")
        keys.write_text(old)
        restart(["server-mgmt"])
    assert key_ids() == [old.split(":", 1)[0]]


def reseal_batch(limit):
    """One batch of server-mgmt's re-seal, as osh-admin asks for it."""
    secret = (RUN / "secrets" / "service-secret").read_text().strip()
    r = requests.post(
        f"http://127.0.0.1:{PORTS['auth']}/internal/auth/service-token",
        json={"service": "osh-admin", "secret": secret}, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(
        f"http://127.0.0.1:{PORTS['server-mgmt']}/internal/credentials/"
        f"reseal?after=0&limit={limit}", timeout=60,
        headers={"Authorization": "Bearer " + r.json()["access_token"]})
    assert r.status_code == 200, r.text
    return r.json()


def rotate_to(kid, sids, admin):
    keys = RUN / "secrets" / "credential-keys"
    restart(["server-mgmt"])
    assert kid not in key_ids()
    olds = [ln.split(":", 1)[0] for ln in keys.read_text().splitlines()[1:]]
    todo = int(psql(
        "SELECT count(*) FROM server_mgmt.servers WHERE credentials IS NOT "
        "NULL AND credentials_binding = 2 AND split_part(credentials, ':', "
        f"1) IN ({', '.join(repr(k) for k in olds)})"))
    assert todo >= len(sids)

    # A run stopped after its first batch (killed, say)...
    first = reseal_batch(limit=1)
    assert first["key"] == kid and first["resealed"] == 1, first
    # ... and the next run does only what is left.
    out = osh_admin("rotate-credentials", "--batch=2")
    assert f"sealed under key {kid}" in out.stderr, out.stderr
    assert f"key {kid}: re-sealed {todo - 1} servers" in out.stderr, \
        out.stderr
    assert key_ids() == [kid]
    # Audited, each server once.
    wait_for(lambda: int(psql(
        "SELECT count(DISTINCT target) FROM auth.audit_log WHERE action = "
        f"'server.credentials_rekey' AND details->>'sealed_under' = '{kid}'"))
        >= len(sids), timeout=20, what="re-seals audited")
    # Resumable and idempotent: a second run has nothing left to do.
    out = osh_admin("rotate-credentials")
    assert f"key {kid}: re-sealed 0" in out.stderr, out.stderr

    # The old key removed: the credentials still drive the BMCs.
    keys.write_text(keys.read_text().splitlines(keepends=True)[0])
    restart(["server-mgmt"])
    for sid in sids:
        wait_for(lambda: power(admin, sid) in ("on", "off"), timeout=30,
                 what=f"server {sid} answers under the new key only")


def test_jwt_signing_key_rotation(admin_password, tmp_path):
    """The new signing key's public key first in OSH_JWT_PUBLIC_KEY_FILE,
    the old one after it: tokens of both verify everywhere and the JWKS
    shows both; once the old one is removed, its tokens are refused."""
    priv = RUN / "secrets" / "jwt-private.pem"
    pub = RUN / "secrets" / "jwt-public.pem"
    old_priv, old_pub = priv.read_text(), pub.read_text()
    subprocess.run(
        "openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 "
        "-topk8 -nocrypt -out new.pem && openssl ec -in new.pem -pubout "
        "-out new.pub", shell=True, cwd=tmp_path, check=True,
        capture_output=True)
    new_pub = (tmp_path / "new.pub").read_text()
    before = Api(login("admin", admin_password)["access_token"])
    try:
        priv.write_text((tmp_path / "new.pem").read_text())
        pub.write_text(new_pub + old_pub)
        restart()
        kids = [k["kid"] for k in Api().get("/api/auth/jwks").json()["keys"]]
        assert len(kids) == 2
        after = Api(login("admin", admin_password)["access_token"])
        for api in (before, after):  # every service takes both
            assert api.get("/api/servers").status_code == 200
            assert api.get("/api/clusters").status_code == 200
            assert api.get("/api/monitoring/alerts").status_code == 200
        pub.write_text(new_pub)  # the overlap is over
        restart()
        assert len(Api().get("/api/auth/jwks").json()["keys"]) == 1
        assert before.get("/api/servers").status_code == 401
        assert after.get("/api/servers").status_code == 200
    finally:
        priv.write_text(old_priv)
        pub.write_text(old_pub)
        restart()

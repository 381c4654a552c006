"""Login throttling per username and per client address: attempts
reserved before verification, one spelling of the login path, password
changes counted like logins, and a cap on an address's checks in flight.
An IPv6 client counts by its /64, in the services and in nginx; user
names match by one case folding, whatever the database's locale."""
import concurrent.futures
import ipaddress
import os
import random
import re
import secrets
import struct
import subprocess
import threading

import pytest
import requests

from conftest import (OFF, PG_PORT, PORTS, RUN, TOP, Api, login,
                      new_password, psql, redis, wait_for)

AUTH = f"http://127.0.0.1:{PORTS['auth']}"


def test_per_user_throttle(make_user):
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.3")
    for _ in range(5):
        r = api.post("/api/auth/login", {"username": user["username"],
                                         "password": "wrong-password"})
        assert r.status_code == 401
    # Now even the right password is refused until the window passes.
    r = api.post("/api/auth/login", {"username": user["username"],
                                     "password": pw})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # Other users are not affected.
    other, opw, _ = make_user("viewer")
    login(other["username"], opw, api)


def test_per_address_throttle(make_user):
    api = Api(source="127.0.0.4")
    for i in range(20):
        r = api.post("/api/auth/login", {"username": f"ghost-{i}",
                                         "password": "wrong-password"})
        assert r.status_code == 401, i
    user, pw, _ = make_user("viewer")
    r = api.post("/api/auth/login", {"username": user["username"],
                                     "password": pw})
    assert r.status_code == 429
    # The same user from another address is fine.
    login(user["username"], pw, Api(source="127.0.0.5"))


def test_success_resets_user_counter(make_user):
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.6")
    for _ in range(4):
        api.post("/api/auth/login", {"username": user["username"],
                                     "password": "wrong-password"})
    login(user["username"], pw, api)
    for _ in range(4):
        r = api.post("/api/auth/login", {"username": user["username"],
                                         "password": "wrong-password"})
        assert r.status_code == 401


def test_login_has_one_spelling(make_user):
    """Other spellings of the login path are 404 (or throttled by the
    gateway): none of them is a way around the gateway's limit."""
    user, pw, _ = make_user("viewer")
    api = Api(source="127.0.0.11")
    body = {"username": user["username"], "password": pw}
    for path in ("/api/auth/login/", "/api/auth//login", "/api/auth/login//",
                 "/api/auth/./login/", "/api/auth/login/.",
                 "/API/auth/login", "/api/auth/password/"):
        r = api.call("POST", path, json_body=body, check=False)
        assert r.status_code in (404, 429), (path, r.status_code)
    # The service itself knows only the one spelling.
    r = requests.post(f"http://127.0.0.1:{PORTS['auth']}/api/auth/login/",
                      json=body, timeout=10)
    assert r.status_code == 404
    login(user["username"], pw, api)


def test_concurrent_guesses_reserve_their_attempts(admin, make_user):
    """30 wrong guesses at once, each from its own address: no more than
    the per-user limit (5) reach password verification; the rest are
    refused before it."""
    user, _, _ = make_user("viewer")
    name = user["username"]
    n = 30
    start = threading.Barrier(n)

    def guess(i):
        api = Api(source=f"127.0.1.{i + 1}")
        start.wait()
        return api.post("/api/auth/login", {"username": name,
                                            "password": f"wrong-pass-{i}"})

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        codes = [r.status_code for r in ex.map(guess, range(n))]
    assert set(codes) <= {401, 429}, codes
    assert 1 <= codes.count(401) <= 5, codes
    # Each verified guess left one failure in the audit log: count them.
    def failures():
        items = admin.get("/api/audit", params={
            "actor": name, "action": "auth.login", "limit": "100"}).json()[
                "items"]
        return [e for e in items if e["result"] == "failure"]
    wait_for(lambda: len(failures()) == codes.count(401),
             what="audited failures")
    assert len(failures()) <= 5


def test_password_change_is_throttled_like_logins(make_user):
    """A stolen access token is no way to guess the password faster: wrong
    current passwords count as failed logins of the user."""
    user, pw, _ = make_user("viewer")
    api = Api(login(user["username"], pw, Api(source="127.0.0.12"))[
        "access_token"], source="127.0.0.12")
    for i in range(5):
        r = api.post("/api/auth/password", {
            "current_password": f"wrong-pass-{i}",
            "new_password": new_password()})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "wrong_password"
    r = api.post("/api/auth/password", {"current_password": pw,
                                        "new_password": new_password()})
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # The same secret: logging in is throttled too, from anywhere.
    r = Api(source="127.0.0.13").post("/api/auth/login", {
        "username": user["username"], "password": pw})
    assert r.status_code == 429


def test_concurrent_password_changes_reserve_their_attempts(make_user):
    user, pw, _ = make_user("viewer")
    token = login(user["username"], pw)["access_token"]
    n = 12
    start = threading.Barrier(n)

    def guess(i):
        api = Api(token, source=f"127.0.2.{i + 1}")
        start.wait()
        return api.post("/api/auth/password", {
            "current_password": f"wrong-pass-{i}",
            "new_password": new_password()}).status_code

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        codes = list(ex.map(guess, range(n)))
    assert set(codes) <= {400, 429}, codes
    assert 1 <= codes.count(400) <= 5, codes


def test_one_address_cannot_take_every_hashing_worker(make_user):
    """An address may run only a few password checks at once (2): the
    others are refused at once with 429 and Retry-After, and other
    addresses still log in meanwhile."""
    user, pw, _ = make_user("viewer")
    n = 12
    start = threading.Barrier(n + 1)

    def flood(i):
        api = Api(source="127.0.0.14")
        start.wait()
        return api.post("/api/auth/login", {"username": f"ghost-flood-{i}",
                                            "password": "wrong-password"})

    def other():
        api = Api(source="127.0.0.15")
        start.wait()
        return api.post("/api/auth/login", {"username": user["username"],
                                            "password": pw})

    with concurrent.futures.ThreadPoolExecutor(n + 1) as ex:
        floods = [ex.submit(flood, i) for i in range(n)]
        mine = ex.submit(other)
        results = [f.result() for f in floods]
        assert mine.result().status_code == 200
    codes = [r.status_code for r in results]
    assert set(codes) <= {401, 429}, codes
    capped = [r for r in results if r.status_code == 429]
    assert capped, codes
    assert codes.count(401) >= 1, codes
    for r in capped:
        assert r.json()["error"]["code"] == "too_many_requests"
        assert "in progress" in r.json()["error"]["message"]
        assert int(r.headers["Retry-After"]) >= 1


# IPv6: a client cycling through its /64 is one client. The services
# believe X-Real-IP from a trusted proxy (127.0.0.1 by default), so these
# tests speak to the auth service directly, as nginx would for clients of
# any address.

def direct_login(addr, username, password):
    return requests.post(f"{AUTH}/api/auth/login",
                         json={"username": username, "password": password},
                         headers={"X-Real-IP": addr}, timeout=30)


def test_ipv6_addresses_of_one_64_share_the_address_limit(make_user):
    user, pw, _ = make_user("viewer")
    net = "2001:db8:7:1"
    # 20 failures (the address limit), each from another address of the
    # /64 and each spelled its own way.
    for i in range(20):
        addr = (f"{net}:{i + 1:x}::{random.randrange(1, 0xffff):x}"
                if i % 2 else
                ipaddress.ip_address(f"{net}::{i + 1:x}").exploded.upper())
        r = direct_login(addr, f"ghost-v6-{i}", "wrong-password")
        assert r.status_code == 401, (addr, r.status_code)
    assert redis("GET", f"osh:login:fail:addr:{net}::/64") in ("20", '"20"')
    # A fresh address of the same /64 is refused, even with the right
    # password ...
    r = direct_login(f"{net}:ffff:ffff:ffff:ffff", user["username"], pw)
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    # ... the next /64 is another client.
    r = direct_login("2001:db8:7:2::1", user["username"], pw)
    assert r.status_code == 200, r.text


def test_mapped_ipv4_is_its_ipv4_address(make_user):
    user, pw, _ = make_user("viewer")
    for i in range(20):
        r = direct_login("::ffff:10.9.8.7" if i % 2 else "10.9.8.7",
                         f"ghost-v4-{i}", "wrong-password")
        assert r.status_code == 401
    for addr in ("10.9.8.7", "::ffff:10.9.8.7", "::ffff:a09:807"):
        r = direct_login(addr, user["username"], pw)
        assert r.status_code == 429, addr
    assert direct_login("10.9.8.8", user["username"], pw).status_code == 200


def test_a_64_cannot_take_every_hashing_worker(make_user):
    """The in-flight cap (2) holds for a /64, not for each address in it:
    12 checks at once from 12 addresses of one /64 are mostly refused,
    while another /64 still logs in."""
    user, pw, _ = make_user("viewer")
    n = 12
    start = threading.Barrier(n + 1)

    def flood(i):
        start.wait()
        return direct_login(f"2001:db8:9:1:{i + 1:x}::1", f"ghost-fl6-{i}",
                            "wrong-password")

    def other():
        start.wait()
        return direct_login("2001:db8:9:2::1", user["username"], pw)

    with concurrent.futures.ThreadPoolExecutor(n + 1) as ex:
        floods = [ex.submit(flood, i) for i in range(n)]
        mine = ex.submit(other)
        results = [f.result() for f in floods]
        assert mine.result().status_code == 200
    codes = [r.status_code for r in results]
    assert set(codes) <= {401, 429}, codes
    capped = [r for r in results if r.status_code == 429]
    assert capped, codes
    for r in capped:
        assert "in progress" in r.json()["error"]["message"]


# nginx: its limit_req key is a map of $remote_addr (deploy/nginx/
# nginx.conf.in). It runs here in an nginx of its own that believes
# X-Real-IP, so that addresses of every shape reach it, written by nginx
# the way it writes any client's address.

KEY_PORT = 8096 + OFF


def reference_key(addr):
    """osh_client_key's rule in the gateway's spelling: IPv4 as is, mapped
    IPv6 as IPv4, other IPv6 as the four groups of its /64."""
    ip = ipaddress.ip_address(addr)
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return ":".join(f"{w:x}" for w in struct.unpack("!8H", ip.packed)[:4])


def sample_addresses():
    """IPv6 addresses with zero groups in every one of the 256 places they
    can be (so that "::" falls everywhere), random otherwise; IPv4 and
    mapped IPv4 addresses; the edges."""
    rnd = random.Random(7)
    out = ["::", "::1", "::2", "1::", "::ffff:0:0", "::ffff:1.2.3.4",
           "::1.2.3.4", "::0.0.171.205", "64:ff9b::1.2.3.4",
           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1",
           "0.0.0.0", "255.255.255.254", "192.0.2.7"]
    for mask in range(256):
        for _ in range(3):
            words = [0 if mask >> i & 1 else rnd.choice(
                (1, 0xf, 0xa0, 0xffff, rnd.randrange(1, 0x10000)))
                for i in range(8)]
            out.append(str(ipaddress.IPv6Address(
                struct.pack("!8H", *words))))
    for _ in range(50):
        v4 = ipaddress.IPv4Address(rnd.randrange(0, 2 ** 32))
        out += [str(v4), f"::ffff:{v4}"]
    return out


@pytest.fixture(scope="module")
def key_nginx(tmp_path_factory):
    conf = (TOP / "deploy" / "nginx" / "nginx.conf.in").read_text()
    m = re.search(r"^\tmap \$remote_addr \$osh_client_key \{\n.*?^\t\}\n",
                  conf, re.M | re.S)
    assert m, "no map of $osh_client_key in nginx.conf.in"
    assert "limit_req_zone $osh_client_key " in conf
    d = tmp_path_factory.mktemp("key-nginx")
    (d / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
access_log off;
client_body_temp_path {d}/body;
proxy_temp_path {d}/proxy;
fastcgi_temp_path {d}/fastcgi;
uwsgi_temp_path {d}/uwsgi;
scgi_temp_path {d}/scgi;
{m.group(0)}
server {{
    listen 127.0.0.1:{KEY_PORT};
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
    location / {{ return 200 "$remote_addr $osh_client_key"; }}
}}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", str(d), "-c", str(d / "nginx.conf"),
                             "-e", str(d / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{KEY_PORT}/"

    def up():
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            assert proc.poll() is None, proc.stderr.read().decode()
            return False
    wait_for(up, what="the key nginx")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_nginx_limits_ipv6_by_its_64(key_nginx):
    s = requests.Session()
    bad = []
    for addr in sample_addresses():
        # Sent written out in full: nginx writes it its own way.
        ip = ipaddress.ip_address(addr)
        sent = ip.exploded if ip.version == 6 and ip.ipv4_mapped is None \
            else addr
        r = s.get(key_nginx, headers={"X-Real-IP": sent}, timeout=5)
        remote, key = r.text.split(" ")
        assert ipaddress.ip_address(remote) == ip
        if key != reference_key(addr):
            bad.append((addr, remote, key, reference_key(addr)))
    assert not bad, bad[:10]
    # Every address of a /64 has one key; the next /64 another.
    keys = {s.get(key_nginx, headers={"X-Real-IP": a}).text.split(" ")[1]
            for a in ("2001:db8::1", "2001:db8::ffff:0:0:1",
                      "2001:db8:0:0:1::", "2001:db8::1:0:0:1")}
    assert keys == {"2001:db8:0:0"}
    assert s.get(key_nginx, headers={"X-Real-IP": "2001:db8:0:1::1"}).text \
        .split(" ")[1] == "2001:db8:0:1"


# User names and the database's locale. The local stack's database has no
# locale, where lower() folds A-Z only; a locale-aware one folds more
# (lower() of the Kelvin sign is 'k'), and the failure counter would have
# to fold the same way. Here an osh-auth of its own runs on a database
# whose collation is ICU's, upgraded from a schema of before the stored
# name key (migration 002), with a Redis of its own.

ICU_PORT = 8097 + OFF
ICU_REDIS_PORT = 16380 + OFF
ICU_DB = "osh_icu"
ICU = f"http://127.0.0.1:{ICU_PORT}"
KELVIN = "\u212a"


def pg_admin(sql, db="postgres"):
    """Runs SQL (on stdin) as the cluster's superuser."""
    cmd = ["psql", "-q", "-X", "-h", "/tmp", "-p", str(PG_PORT), "-U",
           "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-f", "-"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def icu_redis(*args):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p",
                          str(ICU_REDIS_PORT), "--raw", *args],
                         capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def icu_auth(admin_password):
    legacy = f"Kevin-{secrets.token_hex(3)}"
    pw_hash = psql("SELECT password_hash FROM auth.users "
                   "WHERE username = 'admin'")
    pg_admin(f"DROP DATABASE IF EXISTS {ICU_DB} WITH (FORCE);\n"
             f"CREATE DATABASE {ICU_DB} OWNER osh TEMPLATE template0 "
             "ENCODING 'UTF8' LOCALE 'C.UTF-8' LOCALE_PROVIDER icu "
             "ICU_LOCALE 'und';")
    mig = TOP / "services" / "auth" / "migrations"
    # The schema as osh-auth left it before migration 003, with users.
    pg_admin("SET ROLE osh;\nSET client_min_messages = warning;\n"
             "CREATE SCHEMA auth;\nSET search_path TO auth;\n"
             + (mig / "001_init.sql").read_text()
             + (mig / "002_user_json_column.sql").read_text()
             + "CREATE TABLE schema_migrations (version integer PRIMARY "
             "KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
             "DEFAULT now());\n"
             "INSERT INTO schema_migrations (version, name) VALUES "
             "(1, 'init'), (2, 'user_json_column');\n"
             "INSERT INTO users (username, role, password_hash) VALUES "
             f"('admin', 'admin', '{pw_hash}'), "
             f"('{legacy}', 'viewer', '{pw_hash}');\n", db=ICU_DB)
    logs = open(RUN / "logs" / "auth-icu.log", "ab")
    rds = subprocess.Popen(["redis-server", "--port", str(ICU_REDIS_PORT),
                            "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no"],
                           stdout=logs, stderr=logs)
    wait_for(lambda: icu_redis("PING") == "PONG", what="the ICU Redis")
    sec = RUN / "secrets"
    env = dict(os.environ,
               OSH_PORT=str(ICU_PORT),
               OSH_DB_CONNINFO=f"host=127.0.0.1 port={PG_PORT} "
               f"dbname={ICU_DB} user=osh",
               OSH_DB_PASSWORD_FILE=str(sec / "db-password"),
               OSH_REDIS_HOST="127.0.0.1", OSH_REDIS_PORT=str(ICU_REDIS_PORT),
               OSH_REDIS_PASSWORD_FILE="", OSH_JWT_ALG="ES256",
               OSH_JWT_PUBLIC_KEY_FILE=str(sec / "jwt-public.pem"),
               OSH_JWT_PRIVATE_KEY_FILE=str(sec / "jwt-private.pem"),
               OSH_SERVICE_SECRET_FILE=str(sec / "service-secret"),
               OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE="")
    binary = TOP / os.environ.get("BUILD", "build") / "osh-auth"
    auth = subprocess.Popen([str(binary)], env=env, stdout=logs,
                            stderr=logs, stdin=subprocess.DEVNULL)

    def ready():
        assert auth.poll() is None, "osh-auth (ICU) exited: see auth-icu.log"
        try:
            return requests.get(f"{ICU}/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    try:
        wait_for(ready, timeout=30, what="osh-auth on the ICU database")
        yield {"legacy": legacy, "password": admin_password}
    finally:
        auth.terminate()
        auth.wait(timeout=20)
        rds.terminate()
        rds.wait(timeout=10)
        logs.close()
        pg_admin(f"DROP DATABASE IF EXISTS {ICU_DB} WITH (FORCE);")


def icu_login(username, password):
    return requests.post(f"{ICU}/api/auth/login",
                         json={"username": username, "password": password},
                         timeout=30)


def test_user_names_fold_one_way_whatever_the_locale(icu_auth):
    legacy, pw = icu_auth["legacy"], icu_auth["password"]
    kelvin = KELVIN + legacy[1:]
    # The premise: this database's lower() folds the Kelvin sign to 'k'.
    assert pg_admin(f"SELECT lower('{kelvin}') = lower('{legacy}');",
                    db=ICU_DB) == "t"
    # Names are case-insensitive, for a user made before the key existed.
    for name in (legacy, legacy.lower(), legacy.upper()):
        r = icu_login(name, pw)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["user"]["username"] == legacy
    # The Kelvin sign is not a K: it names nobody.
    r = icu_login(kelvin, pw)
    assert r.status_code == 401, r.text
    # The user's failures lock every spelling of the name ...
    for _ in range(5):
        assert icu_login(legacy.lower(), "wrong-password").status_code == 401
    assert icu_login(legacy.upper(), pw).status_code == 429
    assert icu_redis("GET", f"osh:login:fail:user:{legacy.lower()}") == "5"
    # ... and no spelling that the database alone would fold onto it
    # reaches the password: no fresh counter for the same user.
    r = icu_login(kelvin, pw)
    assert r.status_code == 401, r.text
    # Migration 003 keyed the user stored before it.
    assert pg_admin(f"SELECT username_key FROM auth.users WHERE username = "
                    f"'{legacy}';", db=ICU_DB) == legacy.lower()


def test_new_user_names_are_unique_by_the_same_folding(icu_auth):
    token = icu_login("admin", icu_auth["password"]).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    name = f"Kevin-{secrets.token_hex(3)}"
    pw = new_password()

    def create(username):
        return requests.post(f"{ICU}/api/users", headers=h, timeout=30,
                             json={"username": username, "password": pw,
                                   "role": "viewer"})
    r = create(name)
    assert r.status_code == 201, r.text
    assert r.json()["username"] == name
    assert create(name.lower()).status_code == 409
    assert create(name.upper()).status_code == 409
    r = create(KELVIN + name[1:])
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "username"
    assert icu_login(name.upper(), pw).status_code == 200
    assert pg_admin(f"SELECT username_key FROM auth.users WHERE username = "
                    f"'{name}';", db=ICU_DB) == name.lower()


def test_user_names_are_case_insensitive_through_the_gateway(make_user):
    """The stack's own database: the same rule, through nginx."""
    user, pw, _ = make_user("viewer")
    name = user["username"]
    assert login(name.upper(), pw)["user"]["username"] == name
    api = Api(source="127.0.0.16")
    for i in range(5):
        r = api.post("/api/auth/login", {"username": name.upper(),
                                         "password": "wrong-password"})
        assert r.status_code == 401
    assert redis("GET", f"osh:login:fail:user:{name.lower()}") in (
        "5", '"5"')
    r = Api(source="127.0.0.17").post("/api/auth/login", {
        "username": name, "password": pw})
    assert r.status_code == 429

"""Dependencies going away and coming back; restarts keep data. Runs last:
it stops and starts parts of the stack."""
import os
import subprocess

import requests

from conftest import PORTS, RUN, TOP, Api, login, new_password, pg, wait_for

READY = f"http://127.0.0.1:{PORTS['auth']}/ready"


def ready_status():
    try:
        return requests.get(READY, timeout=5).status_code
    except requests.RequestException:
        return None


def test_ready_follows_postgres(admin):
    assert ready_status() == 200
    pg("stop")
    try:
        wait_for(lambda: ready_status() == 503, what="503 without PostgreSQL")
        r = admin.get("/api/users")
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
    finally:
        pg("start")
    wait_for(lambda: ready_status() == 200, timeout=20,
             what="ready again after PostgreSQL is back")
    assert admin.get("/api/users").status_code == 200


def test_ready_follows_redis(admin):
    conf = RUN / "redis" / "redis.conf"
    pid = int((RUN / "redis" / "redis.pid").read_text())
    os.kill(pid, 15)
    try:
        wait_for(lambda: ready_status() == 503, what="503 without Redis")
        # Tokens cannot be checked against the deny-list: refuse, don't
        # guess, once the deny-list's own connection has seen Redis go
        # (/ready's PING may notice a moment before it).
        wait_for(lambda: admin.get("/api/auth/profile").status_code == 503,
                 timeout=10, what="tokens refused without Redis")
    finally:
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), what="redis exit")
        subprocess.run(["redis-server", str(conf)], check=True)
    wait_for(lambda: ready_status() == 200, timeout=20,
             what="ready again after Redis is back")
    assert admin.get("/api/auth/profile").status_code == 200


def test_restart_keeps_data(admin, admin_password):
    pw = new_password()
    u = admin.post("/api/users", {"username": "survivor", "password": pw,
                                  "role": "operator"}).json()
    env = dict(os.environ)
    subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "down"],
                   check=True, env=env, capture_output=True, timeout=120)
    out = subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "up"],
                         check=True, env=env, capture_output=True, text=True,
                         timeout=300)
    # The first admin is created once: a second start does not print it.
    assert admin_password not in out.stdout
    t = login("survivor", pw)
    assert t["user"]["id"] == u["id"]
    a = Api(login("admin", admin_password)["access_token"])
    assert any(x["username"] == "survivor"
               for x in a.get("/api/users", params={"limit": "500"}).json()["items"])

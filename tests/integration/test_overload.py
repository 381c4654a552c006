"""Overload is answered, not cascaded. server-mgmt is restarted with a
small database pool and queue (OSH_DB_POOL_SIZE=2, OSH_DB_QUEUE_MAX=4)
while a lock held in PostgreSQL keeps its queries waiting: a flood of
GET /api/servers through nginx past the queue is answered 503 with
Retry-After and a JSON body at once, not one database connection is lost,
and 200s come back as soon as the database moves again. A query past its
deadline is cancelled on the server and its connection kept. server-mgmt
gets its usual settings back afterwards."""
import os
import re
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import (GATEWAY, PG_PORT, PORTS, RUN, TOP, wait_for)

PORT = PORTS["server-mgmt"]
METRICS = f"http://127.0.0.1:{PORT}/metrics"
# No reused list answers: every request must reach the database.
SMALL = {"OSH_DB_POOL_SIZE": "2", "OSH_DB_QUEUE_MAX": "4",
         "OSH_DB_TIMEOUT_MS": "1500", "OSH_LIST_CACHE_MS": "0"}


def start_server_mgmt(extra):
    """Stops osh-server-mgmt and starts it again the way stack.sh does,
    with extra settings on top; waits until it serves through nginx."""
    pidf = RUN / "pids" / "server-mgmt.pid"
    pid = int(pidf.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=20,
             what="osh-server-mgmt to stop")
    build = os.environ.get("BUILD", "build")
    binary = build if build.startswith("/") else str(TOP / build)
    env = dict(os.environ, OSH_PORT=str(PORT),
               OSH_LISTEN_UNIX=os.path.realpath(RUN / "sockets")
               + "/server-mgmt.sock",
               OSH_DB_CONNINFO=f"host=127.0.0.1 port={PG_PORT} dbname=osh "
               "user=osh_server_mgmt",
               OSH_DB_PASSWORD_FILE=str(RUN / "secrets"
                                        / "db-server-mgmt-password"))
    for k in SMALL:
        env.pop(k, None)
    env.update(extra)
    # Started in the background of a shell that ends at once: not a
    # child of ours, so that whoever stops it later sees it go (a child
    # of pytest would stay a zombie).
    out = subprocess.run(
        ["bash", "-c", '. "$OSH_RUN_DIR/env"; "$0" >>"$1" 2>&1 </dev/null '
         '& echo $!', binary + "/osh-server-mgmt",
         str(RUN / "logs" / "server-mgmt.log")],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        check=True, timeout=10, start_new_session=True)
    pidf.write_text(out.stdout.strip() + "\n")

    def ready():
        try:
            return requests.get(f"http://127.0.0.1:{PORT}/ready",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_for(ready, timeout=60, what="osh-server-mgmt ready")


def metric(name, labels=""):
    text = requests.get(METRICS, timeout=5).text
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class Lock:
    """ACCESS EXCLUSIVE on server_mgmt.servers, held by a psql session
    until released: every query on the table waits."""

    def __init__(self):
        env = dict(os.environ, PGPASSWORD=(RUN / "secrets" / "db-password")
                   .read_text().strip())
        self.p = subprocess.Popen(
            ["psql", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U",
             "osh", "-d", "osh", "-At", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env)
        self.p.stdin.write("BEGIN;\nLOCK TABLE server_mgmt.servers IN "
                           "ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "locked":
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"no lock: {line!r}")

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("COMMIT;\n")
            self.p.stdin.close()
            self.p.wait(timeout=10)


@pytest.fixture(scope="module")
def small_pool():
    start_server_mgmt(SMALL)
    try:
        yield
    finally:
        start_server_mgmt({})


def list_servers(token):
    r = requests.get(GATEWAY + "/api/servers", params={"limit": "5"},
                     headers={"Authorization": f"Bearer {token}"},
                     timeout=30)
    return r


def check_503(r):
    assert r.status_code == 503
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "unavailable"


def test_flood_past_the_queue_is_refused_at_once(small_pool, admin):
    token = admin.token
    assert list_servers(token).status_code == 200
    lost = metric("osh_db_events_total", '{event="lost"}')
    rejected = metric("osh_pool_rejected_total", '{pool="db"}')
    n = 24
    done = []
    lock = threading.Lock()

    def one(_):
        r = list_servers(token)
        with lock:
            done.append(r)
        return r

    db_lock = Lock()
    try:
        with ThreadPoolExecutor(n) as ex:
            futures = [ex.submit(one, i) for i in range(n)]
            # At most 2 running and 4 waiting: the rest are refused
            # while the lock still holds every query back.
            wait_for(lambda: len(done) >= n - 6, timeout=30,
                     what="refusals while the database is blocked")
            with lock:
                early = list(done)
            db_lock.release()
            results = [f.result() for f in futures]
    finally:
        db_lock.release()
    assert len(early) >= n - 6
    for r in early:
        check_503(r)
    for r in results:
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            check_503(r)
    # Right after, the API answers again.
    for _ in range(10):
        assert list_servers(token).status_code == 200
    assert metric("osh_pool_rejected_total", '{pool="db"}') >= \
        rejected + n - 6
    assert metric("osh_db_events_total", '{event="lost"}') == lost
    assert metric("osh_pool_queue_limit", '{pool="db"}') == 4
    assert metric("osh_pool_size", '{pool="db"}') == 2


def test_query_past_deadline_cancelled_connection_kept(small_pool, admin):
    token = admin.token
    assert list_servers(token).status_code == 200
    lost = metric("osh_db_events_total", '{event="lost"}')
    cancels = metric("osh_db_cancels_total", '{result="sent"}')
    db_lock = Lock()
    try:
        r = list_servers(token)  # waits on the lock past 1.5 s
        check_503(r)
        # The cancel reached the server: nothing of ours waits on the
        # lock any more (the poller's own queries aside, which are
        # cancelled the same way).
        wait_for(lambda: metric("osh_db_cancels_total",
                                '{result="sent"}') >= cancels + 1,
                 timeout=10, what="the cancel")
    finally:
        db_lock.release()
    assert list_servers(token).status_code == 200
    assert metric("osh_db_events_total", '{event="lost"}') == lost
    assert metric("osh_db_cancels_total", '{result="failed"}') == 0


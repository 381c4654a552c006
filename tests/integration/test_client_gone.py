"""Issue 7, finding 12: clients that hang up while their request waits on
the database or on a BMC. Each request stays valid until its handler
replies (into the void: the reply is logged with client_gone=true); nothing
leaks or is used after it is freed (under `make SAN=1 test-integration` the
runner fails on any sanitizer report in the service logs); the service
answers afterwards, and its descriptors return to their baseline."""
import concurrent.futures
import os
import re
import socket
import struct
import time

import psycopg2
import pytest
import requests

from conftest import (FLEET, OFF, PG_PORT, PORTS, RUN, logs, server_body,
                      sim, wait_for)

SM = PORTS["server-mgmt"]
GATEWAY_PORT = 8080 + OFF
SILENT_PORTS = [9180 + OFF + i for i in range(5)]  # offset, like every port
PER_ROUND = 250
ROUNDS = 2


class Service:
    """server-mgmt's process and its /metrics, read over one kept-alive
    connection (so that reading does not change what is read)."""

    def __init__(self):
        self.pid = int((RUN / "pids" / "server-mgmt.pid").read_text())
        self.s = requests.Session()

    def metric(self, name):
        text = self.s.get(f"http://127.0.0.1:{SM}/metrics", timeout=10).text
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def in_flight(self):
        # The /metrics request itself is in flight while it renders.
        return self.metric("osh_http_in_flight") - 1

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def own_fds(self):
        """Descriptors other than client connections: the listener, the
        database and Redis connections, timers, logs."""
        conns = self.metric("osh_http_connections")
        return self.fds() - conns, conns


@pytest.fixture
def service(viewer):
    svc = Service()
    assert viewer.get("/api/servers").status_code == 200
    yield svc
    svc.s.close()


def send_requests(token, paths):
    """Opens a connection per path (every other one through nginx) and
    sends the request; returns the sockets, unread."""
    socks = []
    for i, path in enumerate(paths):
        port = GATEWAY_PORT if i % 2 else SM
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {token}\r\n\r\n").encode())
        socks.append(s)
    return socks


def hang_up(socks):
    """Closes every client: most politely, every third with a reset."""
    for i, s in enumerate(socks):
        if i % 3 == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()


def gone_lines(since):
    return logs("server-mgmt")[since:].count("client_gone=true")


def resets(paths):
    """Clients that hang up with a reset, straight to the service: only
    those are gone for it. One that closes may only have half-closed
    (shutdown(SHUT_WR)) and still read: its reply is sent, into a reset
    when it had really gone; so is one through nginx, which closes its
    side when its client goes."""
    return sum(1 for i in range(len(paths)) if i % 2 == 0 and i % 3 == 0)


def run_rounds(service, token, paths, hold, release):
    """ROUNDS times: hold the dependency, send the requests, wait until
    they are all pending, hang up, release, wait until they are done."""
    for _ in range(ROUNDS):
        hold()
        try:
            socks = send_requests(token, paths)
            wait_for(lambda: service.in_flight() >= len(paths), timeout=20,
                     interval=0.2, what=f"{len(paths)} requests pending")
            hang_up(socks)
        finally:
            release()
        wait_for(lambda: service.in_flight() == 0, timeout=30, interval=0.2,
                 what="every pending request answered")


# Each a query of its own: server-mgmt answers identical lists requested
# together with one query (and reuses it for OSH_LIST_CACHE_MS).
LISTS = [f"/api/servers?limit=1&offset={i}" for i in range(PER_ROUND)]


def test_clients_gone_while_the_database_waits(service, viewer):
    base_own, base_conns = service.own_fds()
    since = len(logs("server-mgmt"))
    password = (RUN / "secrets" / "db-password").read_text().strip()
    db = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="osh",
                          password=password, dbname="osh")
    cur = db.cursor()

    def hold():
        # The last round's answers expire first (OSH_LIST_CACHE_MS).
        time.sleep(1.2)
        cur.execute("LOCK TABLE server_mgmt.servers IN ACCESS EXCLUSIVE "
                    "MODE")

    try:
        run_rounds(service, viewer.token, LISTS,
                   hold, db.rollback)
    finally:
        db.close()
    # Every request whose client reset its connection was answered into
    # the void.
    assert gone_lines(since) >= ROUNDS * resets(LISTS)
    assert viewer.get("/api/servers").status_code == 200
    wait_for(lambda: service.own_fds()[0] <= base_own, timeout=10,
             what="descriptors back to their baseline")
    wait_for(lambda: service.own_fds()[1] <= base_conns + 2, timeout=10,
             what="client connections closed")


@pytest.fixture
def silent_servers(admin, fleet):
    ids = []
    for port in SILENT_PORTS:
        sim("add", str(FLEET), "--kind", "silent", "--port", str(port))
        r = admin.post("/api/servers", server_body(port, name=f"gone-{port}"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    yield ids
    for sid in ids:
        admin.delete(f"/api/servers/{sid}")


def test_clients_gone_while_a_bmc_call_waits(service, viewer,
                                             silent_servers):
    # Sessions to the silent BMCs are tried once first, so that the
    # baseline holds whatever the IPMI engine keeps per BMC.
    with concurrent.futures.ThreadPoolExecutor(len(silent_servers)) as ex:
        codes = list(ex.map(
            lambda sid: viewer.get(f"/api/servers/{sid}/power").status_code,
            silent_servers))
    assert codes == [504] * len(silent_servers)
    base_own, base_conns = service.own_fds()
    since = len(logs("server-mgmt"))
    per_bmc = PER_ROUND // len(silent_servers)
    paths = [f"/api/servers/{sid}/power"
             for sid in silent_servers for _ in range(per_bmc)]
    # The BMCs never answer: the requests wait for their deadline.
    run_rounds(service, viewer.token, paths, lambda: None, lambda: None)
    assert gone_lines(since) >= ROUNDS * resets(paths)
    assert viewer.get("/api/servers").status_code == 200
    wait_for(lambda: service.own_fds()[0] <= base_own, timeout=10,
             what="descriptors back to their baseline")
    wait_for(lambda: service.own_fds()[1] <= base_conns + 2, timeout=10,
             what="client connections closed")

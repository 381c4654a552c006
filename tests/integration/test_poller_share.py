"""Replicas of server-mgmt share the status polls: a second replica
started beside the stack's announces itself in Redis, each polls the
servers whose id modulo the number of replicas is its place (together
all of them, none twice), and when it stops the first takes them all
back."""
import os
import re
import signal
import subprocess

import pytest
import requests

from conftest import OFF, PG_PORT, PORTS, RUN, TOP, redis, wait_for

FIRST = PORTS["server-mgmt"]
SECOND = 8192 + OFF


def metric(port, name, labels=""):
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def polled(port):
    return metric(port, "osh_poll_servers", '{state="all"}')


@pytest.fixture
def second_replica():
    build = os.environ.get("BUILD", "build")
    binary = build if build.startswith("/") else str(TOP / build)
    sock = os.path.realpath(RUN / "sockets") + "/server-mgmt-2.sock"
    env = dict(os.environ, OSH_PORT=str(SECOND), OSH_LISTEN_UNIX=sock,
               OSH_DB_CONNINFO=f"host=127.0.0.1 port={PG_PORT} dbname=osh "
               "user=osh_server_mgmt",
               OSH_DB_PASSWORD_FILE=str(RUN / "secrets"
                                        / "db-server-mgmt-password"))
    with open(RUN / "logs" / "server-mgmt-2.log", "ab") as log:
        p = subprocess.Popen(
            ["bash", "-c", '. "$OSH_RUN_DIR/env"; exec "$0"',
             binary + "/osh-server-mgmt"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def ready():
        try:
            return requests.get(f"http://127.0.0.1:{SECOND}/ready",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False
    try:
        wait_for(ready, timeout=60, what="the second replica ready")
        yield p
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)


@pytest.fixture
def alone():
    """The servers the stack's replica polls alone, once two of its rounds
    agree: a test before may just have deleted servers, which the round
    under way still counts."""
    def settled():
        rounds, n = metric(FIRST, "osh_poll_rounds_total"), polled(FIRST)
        wait_for(lambda: metric(FIRST, "osh_poll_rounds_total") >= rounds + 2,
                 timeout=20, interval=0.2, what="two poll rounds")
        return n if n is not None and polled(FIRST) == n else None
    return wait_for(settled, timeout=60, interval=0, what="the poller's servers")


def test_two_replicas_share_the_polls(alone, second_replica):
    assert alone >= 2, "the stack polls several servers"
    assert metric(FIRST, "osh_poll_replicas") == 1

    seen = []

    def shared():
        seen[:] = [metric(FIRST, "osh_poll_replicas"),
                   metric(SECOND, "osh_poll_replicas"),
                   polled(FIRST), polled(SECOND), alone]
        if seen[0] != 2 or seen[1] != 2:
            return None
        a, b = seen[2], seen[3]
        # Both have had a round since they learnt of each other.
        return (a, b) if a is not None and b is not None and \
            a + b == alone else None
    try:
        a, b = wait_for(shared, timeout=30, interval=0.5,
                        what="the polls shared by two replicas")
    except AssertionError as e:
        raise AssertionError(f"{e}; replicas, polled, alone: {seen}")
    assert 0 < a < alone and 0 < b < alone
    members = re.findall(r'"([^"]+)"',
                         redis("ZRANGE", "osh:poller:replicas", "0", "-1"))
    assert len(members) == 2 and all(m.endswith((f":{FIRST}", f":{SECOND}"))
                                     for m in members)

    # The second one stops: it leaves at once, and the first polls
    # every server again from its next round.
    second_replica.send_signal(signal.SIGTERM)
    second_replica.wait(timeout=30)
    wait_for(lambda: metric(FIRST, "osh_poll_replicas") == 1 and
             polled(FIRST) == alone, timeout=30, interval=0.5,
             what="the first replica polling every server again")

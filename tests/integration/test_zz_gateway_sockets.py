"""The gateway reaches the services through unix sockets in a directory
only the stack can write to, so that nginx never sends a bearer token to a
port a crashed service left for anyone to bind (issue 7 review of the HTTP
server, finding 5). Runs late: it kills and restarts server-mgmt."""
import grp
import os
import signal
import socket
import stat
import subprocess

import requests

from conftest import GATEWAY, PORTS, RUN, TOP, logs, wait_for


def sock_dir():
    return os.path.realpath(RUN / "sockets")


def test_nginx_proxies_to_the_unix_sockets(admin):
    ups = (RUN / "nginx" / "upstreams.conf").read_text()
    assert "127.0.0.1" not in ups
    for name in ("auth", "server-mgmt"):
        assert f"server unix:{sock_dir()}/{name}.sock;" in ups, ups
    assert admin.get("/api/auth/profile").status_code == 200
    assert admin.get("/api/servers").status_code == 200


def test_client_address_through_the_socket(admin):
    """A unix socket peer is a trusted proxy: the service logs the client
    nginx saw (X-Real-IP), not the socket."""
    rid = "sock-real-ip-1"
    assert admin.get("/api/servers",
                     headers={"X-Request-Id": rid}).status_code == 200
    line = [ln for ln in logs("server-mgmt").splitlines()
            if f'request_id="{rid}"' in ln and 'msg="request"' in ln]
    assert line, "request not logged"
    assert 'client="127.0.0.1"' in line[-1], line[-1]


def test_socket_directory_permissions():
    d = sock_dir()
    st = os.stat(d)
    assert stat.S_ISDIR(st.st_mode)
    assert st.st_uid == os.geteuid()
    if os.geteuid() == 0:
        # nginx workers (www-data) may enter and connect; nobody but
        # root may create anything there.
        assert stat.S_IMODE(st.st_mode) == 0o2750, oct(st.st_mode)
        assert st.st_gid == grp.getgrnam("www-data").gr_gid
    else:
        assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    socks = sorted(os.listdir(d))
    assert "auth.sock" in socks and "server-mgmt.sock" in socks, socks
    for name in socks:
        s = os.lstat(os.path.join(d, name))
        assert stat.S_ISSOCK(s.st_mode), name
        assert stat.S_IMODE(s.st_mode) == 0o660, (name, oct(s.st_mode))
        if os.geteuid() == 0:
            assert s.st_gid == grp.getgrnam("www-data").gr_gid, name


def sm_pid():
    return int((RUN / "pids" / "server-mgmt.pid").read_text())


def test_crashed_service_port_gets_no_token(admin):
    """server-mgmt crashes; whoever binds its TCP port next gets nothing
    from nginx, bearer tokens least of all: the client gets nginx's JSON
    error. Restarted, server-mgmt replaces its stale socket."""
    pid = sm_pid()
    os.kill(pid, signal.SIGKILL)
    # Gone for good once reaped (its threads close its sockets first).
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"),
             what="server-mgmt gone")
    # The crash leaves its socket behind.
    assert stat.S_ISSOCK(
        os.lstat(os.path.join(sock_dir(), "server-mgmt.sock")).st_mode)
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def bind():
        try:
            lst.bind(("127.0.0.1", PORTS["server-mgmt"]))
            return True
        except OSError:
            return False
    wait_for(bind, what="server-mgmt's port free for anyone")
    lst.listen(16)
    lst.setblocking(False)
    try:
        for path in ("/api/servers", "/api/servers/1",
                     "/api/discovery/scans"):
            r = requests.get(GATEWAY + path, timeout=10, headers={
                "Authorization": f"Bearer {admin.token}"})
            assert r.status_code in (502, 503), (path, r.status_code)
            assert r.headers["Content-Type"].startswith("application/json")
            err = r.json()["error"]
            assert err["code"] == "unavailable"
            assert err["request_id"]
        # Prometheus (scraping /metrics, asking for targets) and other
        # services may knock on the port meanwhile: none of that may be
        # one of the requests above, or carry the client's token.
        while True:
            try:
                conn, _ = lst.accept()
            except BlockingIOError:
                break
            conn.settimeout(1)
            try:
                got = conn.recv(65536)
            except OSError:
                got = b""
            conn.close()
            assert admin.token.encode() not in got, got[:200]
            assert not got.startswith((b"GET /api/", b"POST /api/")), \
                f"nginx connected to the port: {got[:200]!r}"
    finally:
        lst.close()
    out = subprocess.run(["bash", str(TOP / "deploy/local/stack.sh"), "up"],
                         env=dict(os.environ), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert sm_pid() != pid
    assert "stale unix socket removed" in logs("server-mgmt")
    wait_for(lambda: admin.get("/api/servers").status_code == 200,
             timeout=20, what="server-mgmt through nginx again")

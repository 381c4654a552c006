"""osh-ipmi-exporter is no open proxy: basic authentication from an
exporter-toolkit web configuration (the same file the community
ipmi_exporter takes) on every endpoint, allowed_targets and module osh
refusing targets before any packet is sent, the scrape deadline capped
whatever a client asks, host names looked up within the deadline, bracketed
IPv6 targets with module osh, and outside values quoted in its log. One
client cannot take every bcrypt check (a share per address, 429 beyond),
a repeated wrong password is not checked again, and settings that
protect less than they seem (client_allowed_sans on certificates nobody
verified) are warned about when they load."""
import base64
import os
import re
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import (FLEET, FLEET_PORT, OFF, PORTS, RUN, SILENT_PORT, TOP,
                      server_body, wait_for)
from test_exporter import EXPORTER, exporter_auth, series

BUILD = os.environ.get("BUILD", "build")
OWN_PORT = 9391 + OFF
REF_WEB_PORT = 9392 + OFF
TLS_PORT = 9393 + OFF
REF_TLS_PORT = 9394 + OFF
V6_PORT = 9060 + OFF
GUARD_PORT = 9395 + OFF
OWN = f"http://127.0.0.1:{OWN_PORT}"
USER, PASSWORD = "scraper", "Sc4pe-me-not"
UP = ("ipmi_up", frozenset({("collector", "ipmi")}))


def bcrypt(password, prefix="$2y$", cost=10):
    """A bcrypt hash as htpasswd -B writes it ($2y$, cost 10), made by
    libxcrypt through Python (not by the exporter under test)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # deprecated, still in Debian 12's Python
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                               rounds=1 << cost))
    return prefix + h[4:]


# A web configuration as operators of the community exporters write them:
# nothing in it is ours.
WEB_CONFIG = f"""# web-config.yml for ipmi_exporter
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
    X-Frame-Options: deny
basic_auth_users:
  {USER}: {bcrypt(PASSWORD)}
  other: {bcrypt("another", "$2b$")}
"""

MODULES = """modules:
  default:
    user: admin
    pass: secret
    driver: LAN_2_0
    workaround_flags: [opensesspriv]
    collectors: [ipmi, chassis]
  lim:
    user: admin
    pass: secret
    workaround_flags: [opensesspriv]
    collectors: [chassis]
    allowed_targets: [10.0.0.0/8, 'fd00::/8']
  local:
    user: admin
    pass: secret
    workaround_flags: [opensesspriv]
    collectors: [chassis]
    timeout: 1s
    allowed_targets: [127.0.0.0/8]
  quick:
    user: admin
    pass: secret
    workaround_flags: [opensesspriv]
    collectors: [ipmi, chassis]
    timeout: 2s
  old:
    user: admin
    pass: secret
    driver: LAN
  osh:
    collectors: [ipmi, chassis]
"""


@pytest.fixture(scope="module")
def own(tmp_path_factory, fleet):
    """An exporter of the test's own, with the web configuration above and
    module osh through the stack's server-mgmt."""
    d = tmp_path_factory.mktemp("own-exporter")
    (d / "web.yml").write_text(WEB_CONFIG)
    (d / "modules.yml").write_text(MODULES)
    log = d / "exporter.log"
    env = dict(os.environ,
               OSH_SERVER_MGMT_URL=f"http://127.0.0.1:{PORTS['server-mgmt']}",
               OSH_AUTH_URL=f"http://127.0.0.1:{PORTS['auth']}",
               OSH_SERVICE_SECRET_FILE=str(RUN / "secrets" /
                                           "service-secret"),
               OSH_REDIS_HOST="", OSH_LOG_LEVEL="info")
    with open(log, "wb") as out:
        p = subprocess.Popen(
            [str(TOP / BUILD / "osh-ipmi-exporter"),
             f"--config.file={d / 'modules.yml'}",
             f"--web.config.file={d / 'web.yml'}",
             f"--web.listen-address=127.0.0.1:{OWN_PORT}"],
            stdout=out, stderr=subprocess.STDOUT, env=env)

    def ready():
        try:
            return requests.get(f"{OWN}/ready", timeout=2).ok
        except requests.RequestException:
            return False
    wait_for(ready, timeout=20, what="the test's exporter")
    yield {"dir": d, "log": log, "pid": p.pid}
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def get(path, auth=(USER, PASSWORD), base=OWN, **kw):
    return requests.get(base + path, auth=auth, timeout=30, **kw)


def scrape(target, module="default", auth=(USER, PASSWORD), base=OWN,
           timeout=None):
    h = {"X-Prometheus-Scrape-Timeout-Seconds": str(timeout)} if timeout \
        else {}
    return get("/ipmi", auth=auth, base=base, headers=h,
               params={"target": target, "module": module})


class Listener:
    """A UDP port on loopback that records whatever reaches it: where a
    refused scrape would have sent its packets."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.s = socket.socket(family, socket.SOCK_DGRAM)
        self.s.bind((host, 0))
        self.port = self.s.getsockname()[1]

    def received(self, wait=1.5):
        self.s.settimeout(wait)
        try:
            return self.s.recvfrom(4096)[0]
        except socket.timeout:
            return None

    def close(self):
        self.s.close()


def metric(text, name, **labels):
    for k, v in series(text).items():
        if k[0] == name and all((a, b) in k[1] for a, b in labels.items()):
            return v
    return 0.0


def test_stack_exporter_needs_basic_auth(fleet):
    target = {"target": f"127.0.0.1:{FLEET_PORT}", "module": "default"}
    calls = [("GET", "/ipmi", target), ("GET", "/metrics", None),
             ("GET", "/", None), ("POST", "/-/reload", None)]
    good = exporter_auth()
    for method, path, params in calls:
        for auth in (None, ("prometheus", "wrong"), ("nobody", good[1])):
            r = requests.request(method, EXPORTER + path, params=params,
                                 auth=auth, timeout=30)
            assert r.status_code == 401, (method, path, auth)
            assert r.headers["WWW-Authenticate"] == "Basic"
            assert "ipmi_" not in r.text
        r = requests.request(method, EXPORTER + path, params=params,
                             auth=good, timeout=30)
        assert r.status_code == 200, (method, path, r.text)
    # Probes stay open, and say nothing secret.
    for path in ("/health", "/ready"):
        assert requests.get(EXPORTER + path, timeout=5).status_code == 200


def test_prometheus_logs_in_with_its_password_file():
    prom = f"http://127.0.0.1:{9090 + OFF}"

    def up():
        r = requests.get(f"{prom}/api/v1/query", params={
            "query": 'up{job="osh-ipmi-exporter"}'}, timeout=5).json()
        res = r["data"]["result"]
        return res and res[0]["value"][1] == "1"
    wait_for(up, timeout=30, interval=0.5,
             what="Prometheus scraping the exporter with basic auth")
    # The password is in a file, not on any command line.
    pw = exporter_auth()[1]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                continue
            assert pw.encode() not in cmd


def test_toolkit_web_config_works_unchanged(own, fleet):
    """The same file, given to the community exporter and to ours: both
    want the same users and send the same headers."""
    refmods = own["dir"] / "ref-modules.yml"
    refmods.write_text("modules:\n  default:\n    user: admin\n"
                       "    pass: secret\n    driver: LAN_2_0\n"
                       "    workaround_flags: [opensesspriv]\n"
                       "    collectors: [chassis]\n")
    ref = subprocess.Popen(
        ["prometheus-ipmi-exporter", f"--config.file={refmods}",
         f"--web.config.file={own['dir'] / 'web.yml'}",
         f"--web.listen-address=127.0.0.1:{REF_WEB_PORT}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    refbase = f"http://127.0.0.1:{REF_WEB_PORT}"
    try:
        def answers():
            try:
                return requests.get(refbase + "/metrics", timeout=2) \
                    .status_code == 401
            except requests.RequestException:
                return False
        wait_for(answers, timeout=20, what="the reference exporter")
        for base in (refbase, OWN):
            for auth in (None, (USER, "wrong"), ("ghost", PASSWORD)):
                r = get("/metrics", auth=auth, base=base)
                assert r.status_code == 401, (base, auth)
                assert r.headers["WWW-Authenticate"] == "Basic"
            for auth in ((USER, PASSWORD), ("other", "another")):
                r = get("/metrics", auth=auth, base=base)
                assert r.status_code == 200, (base, auth)
                assert r.headers["X-Frame-Options"] == "deny"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
            r = scrape(f"127.0.0.1:{FLEET_PORT}", base=base)
            assert r.status_code == 200
            s = series(r.text)
            assert s[("ipmi_up", frozenset({("collector", "chassis")}))] \
                == 1
    finally:
        ref.terminate()
        ref.wait(timeout=30)


def test_bcrypt_runs_once_then_remembered(own):
    def counts():
        m = get("/metrics").text
        return (metric(m, "osh_exporter_basic_auth_total",
                       outcome="verified"),
                metric(m, "osh_exporter_basic_auth_total",
                       outcome="cached"))
    get("/metrics")
    verified, cached = counts()
    for _ in range(10):
        assert get("/metrics").status_code == 200
    v2, c2 = counts()
    assert v2 == verified  # no bcrypt for a password already checked
    assert c2 >= cached + 10
    # A wrong password not seen before is checked (and refused).
    assert get("/metrics", auth=(USER, "nope")).status_code == 401
    assert counts()[0] == verified + 1


SLOW = ("slow", "Sl0w-to-check")  # cost 12: a check holds a worker a while
QUICK = ("prom", "Qu1ck-to-check")  # cost 04


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """An exporter of the test's own with a costly user, for the limits
    on bcrypt checks; clients reach it from 127.0.0.2 and 127.0.0.3 (Linux
    routes all of 127.0.0.0/8 to lo), and it sees those addresses."""
    d = tmp_path_factory.mktemp("guarded-exporter")
    (d / "web.yml").write_text(
        "basic_auth_users:\n"
        f"  {SLOW[0]}: {bcrypt(SLOW[1], cost=12)}\n"
        f"  {QUICK[0]}: {bcrypt(QUICK[1], prefix='$2b$', cost=4)}\n")
    (d / "modules.yml").write_text("modules:\n  default:\n"
                                   "    collectors: [chassis]\n")
    log = d / "exporter.log"
    env = dict(os.environ, OSH_SERVER_MGMT_URL="", OSH_REDIS_HOST="",
               OSH_TRUSTED_PROXIES="", OSH_LOG_LEVEL="info")
    with open(log, "wb") as out:
        p = subprocess.Popen(
            [str(TOP / BUILD / "osh-ipmi-exporter"),
             f"--config.file={d / 'modules.yml'}",
             f"--web.config.file={d / 'web.yml'}",
             f"--web.listen-address=127.0.0.1:{GUARD_PORT}"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{GUARD_PORT}"

    def ready():
        try:
            return requests.get(f"{base}/ready", timeout=2).ok
        except requests.RequestException:
            return False
    wait_for(ready, timeout=20, what="the guarded exporter")
    yield {"base": base, "log": log}
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def send_from(source, auth, path="/metrics"):
    """A request to the guarded exporter from the loopback address source,
    sent and not read: the open socket."""
    s = socket.create_connection(("127.0.0.1", GUARD_PORT), timeout=60,
                                 source_address=(source, 0))
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: exporter\r\n"
              f"Authorization: Basic {token}\r\n"
              "Connection: close\r\n\r\n".encode())
    return s


def answer(s):
    """Reads the whole answer on s: (status, headers)."""
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, v in
                   (line.split(":", 1) for line in lines[1:]))
    return int(lines[0].split()[1]), headers


def auth_counts(base):
    r = requests.get(base + "/metrics", auth=QUICK, timeout=30)
    assert r.status_code == 200, r.text
    m = r.text
    return {o: metric(m, "osh_exporter_basic_auth_total", outcome=o)
            for o in ("verified", "refused", "refused_remembered",
                      "busy", "client_limited")}


def test_one_client_cannot_take_every_bcrypt_check(guarded):
    """A client sending many wrong passwords at once gets its share of the
    bcrypt checks (429 with Retry-After beyond it), not all of them: a
    client elsewhere still logs in meanwhile (it got 503 while the flood's
    checks filled the global bound)."""
    flood = [send_from("127.0.0.2", (SLOW[0], f"wrong-{i}"))
             for i in range(40)]
    sel = selectors.DefaultSelector()
    for s in flood:
        sel.register(s, selectors.EVENT_READ)
    answers = []
    # Those the exporter turns away at once answer first: once eight
    # have, all forty have been seen, and those admitted hold their
    # bcrypt checks (cost 12) for a while yet.
    deadline = time.time() + 30
    while len(answers) < 8 and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            sel.unregister(key.fileobj)
            answers.append(answer(key.fileobj))
    assert len(answers) >= 8, answers
    # Another address, while the flood's checks are pending.
    r = answer(send_from("127.0.0.3", QUICK))
    assert r[0] == 200, r
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        answers.append(answer(key.fileobj))
    statuses = [a[0] for a in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 30, statuses
    assert 401 in statuses  # the admitted ones were checked and refused
    for status, headers in answers:
        if status == 429:
            assert headers["retry-after"] == "1"
    c = auth_counts(guarded["base"])
    assert c["client_limited"] >= 30
    assert c["busy"] == 0


def test_repeated_wrong_password_not_checked_again(guarded):
    """A refusal is remembered for the client that got it: the same wrong
    password again costs no bcrypt; from another address, with another
    password or another user it is checked; the right password is never
    refused for it."""
    base = guarded["base"]
    auth_counts(base)  # QUICK's own check, remembered from here on
    c0 = auth_counts(base)

    def status(source, auth):
        return answer(send_from(source, auth))[0]

    steps = [("127.0.0.2", (QUICK[0], "guess-a"), 401, 1, 0),
             ("127.0.0.2", (QUICK[0], "guess-a"), 401, 0, 1),
             ("127.0.0.2", (QUICK[0], "guess-a"), 401, 0, 1),
             ("127.0.0.3", (QUICK[0], "guess-a"), 401, 1, 0),
             ("127.0.0.2", (QUICK[0], "guess-b"), 401, 1, 0),
             ("127.0.0.2", ("ghost", "guess-a"), 401, 1, 0),
             ("127.0.0.2", ("ghost", "guess-a"), 401, 0, 1),
             ("127.0.0.2", QUICK, 200, 0, 0)]  # remembered success
    for source, auth, want, checked, remembered in steps:
        assert status(source, auth) == want, (source, auth)
        c = auth_counts(base)
        assert c["verified"] - c0["verified"] == checked, (source, auth)
        assert c["refused_remembered"] - c0["refused_remembered"] == \
            remembered, (source, auth)
        c0 = c


def test_uneven_bcrypt_costs_are_warned_about(guarded):
    """Unknown users are checked at the largest cost (12 here): a user of
    a lower cost answers sooner, which the log says at load."""
    assert re.search(r'level=warn .*msg="web configuration: line 1: '
                     r'basic_auth_users have bcrypt costs from 04 to 12: '
                     r'unknown users are checked at cost 12',
                     guarded["log"].read_text())


def test_reload_needs_authentication(own):
    r = requests.post(f"{OWN}/-/reload", timeout=10)
    assert r.status_code == 401
    r = requests.post(f"{OWN}/-/reload", timeout=10, auth=(USER, "x"))
    assert r.status_code == 401
    r = requests.post(f"{OWN}/-/reload", timeout=10, auth=(USER, PASSWORD))
    assert r.status_code == 200


def test_allowed_targets_refuse_before_any_packet(own):
    lst = Listener()
    try:
        for target in (f"127.0.0.1:{lst.port}", f"localhost:{lst.port}"):
            r = scrape(target, module="lim")
            assert r.status_code == 403, r.text
            assert "allowed_targets" in r.text
            assert lst.received() is None, target
        # Where it is allowed, the same scrape does reach the port.
        r = scrape(f"127.0.0.1:{lst.port}", module="local")
        assert r.status_code == 200
        assert lst.received() is not None
    finally:
        lst.close()
    m = get("/metrics").text
    assert metric(m, "osh_exporter_targets_refused_total", module="lim",
                  reason="not_allowed") >= 2


def test_module_osh_refuses_unregistered_targets(own):
    lst = Listener()
    try:
        for base, auth in ((OWN, (USER, PASSWORD)),
                           (EXPORTER, exporter_auth())):
            r = scrape(f"127.0.0.1:{lst.port}", module="osh", base=base,
                       auth=auth)
            assert r.status_code == 403, r.text
            assert "not a server registered in server-mgmt" in r.text
        assert lst.received() is None
    finally:
        lst.close()
    m = get("/metrics").text
    assert metric(m, "osh_exporter_targets_refused_total", module="osh",
                  reason="not_registered") >= 1


def test_client_cannot_stretch_the_deadline(own, fleet):
    # A silent BMC and a client that says it waits ten minutes: the
    # module's 2 s timeout is what counts.
    t0 = time.time()
    r = scrape(f"127.0.0.1:{SILENT_PORT}", module="quick", timeout=600)
    took = time.time() - t0
    assert r.status_code == 200
    assert series(r.text)[UP] == 0
    assert took < 8, took
    # A shorter client deadline still wins over the module's.
    t0 = time.time()
    r = scrape(f"127.0.0.1:{SILENT_PORT}", module="quick", timeout=1)
    assert time.time() - t0 < 4


def test_host_names_resolved_within_the_deadline(own, fleet):
    r = scrape(f"localhost:{FLEET_PORT}")
    assert r.status_code == 200
    assert series(r.text)[UP] == 1
    t0 = time.time()
    r = scrape("no-such-bmc.invalid:623", timeout=2)
    assert time.time() - t0 < 4
    assert r.status_code == 200
    assert series(r.text)[UP] == 0
    assert re.search(r'msg="scrape incomplete" '
                     r'target="no-such-bmc.invalid:623" module="default" '
                     r'collectors=ipmi,chassis error=dns_(not_found|timeout'
                     r'|failed)', own["log"].read_text())
    r = scrape("bad_host!:623")
    assert r.status_code == 400


@pytest.fixture
def v6_bmc(fleet):
    """A copy of a fleet BMC listening on [::1]."""
    src = FLEET / "bmc1"
    dst = RUN / "v6-bmc"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("state",
                                                            "*.log"))
    conf = (dst / "lan.conf").read_text()
    conf = re.sub(r"addr \S+ \d+", f"addr ::1 {V6_PORT}", conf)
    conf = conf.replace('name "bmc1"', 'name "v6bmc"')
    conf = conf.replace(str(src), str(dst))
    (dst / "lan.conf").write_text(conf)
    state = dst / "state" / "ipmi_sim" / "v6bmc"
    state.mkdir(parents=True)
    shutil.copy(src / "state" / "ipmi_sim" / "bmc1" / "sdr.20.main", state)
    with open(dst / "sim.log", "wb") as log:
        p = subprocess.Popen(["ipmi_sim", "-c", "lan.conf", "-f", "sim.emu",
                              "-s", "state", "-n"], cwd=dst, stdout=log,
                             stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert p.poll() is None, (dst / "sim.log").read_text()
    yield f"[::1]:{V6_PORT}"
    p.terminate()
    p.wait(timeout=30)


def test_bracketed_ipv6_target_with_module_osh(own, admin, v6_bmc):
    r = admin.post("/api/servers",
                   server_body(V6_PORT, name="v6-bmc", monitoring=False,
                               bmc_address=v6_bmc))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    try:
        for base, auth in ((OWN, (USER, PASSWORD)),
                           (EXPORTER, exporter_auth())):
            r = scrape(v6_bmc, module="osh", base=base, auth=auth)
            assert r.status_code == 200, r.text
            assert series(r.text)[UP] == 1
        # The same address written another way is another target.
        r = scrape(f"[0:0::1]:{V6_PORT}", module="osh")
        assert r.status_code == 403
    finally:
        admin.delete(f"/api/servers/{sid}")


def test_ipmi15_module_is_warned_about(own):
    assert re.search(r'level=warn .*msg="module uses IPMI 1\.5 \(driver '
                     r'LAN\).*MD5.*" module="old"', own["log"].read_text())


def test_outside_values_are_quoted_in_logs(own):
    evil = 'evil"host\nlevel=error msg=forged:623'
    r = scrape(evil, module="osh")
    assert r.status_code in (400, 403)
    r = get("/metrics", auth=('bad"user\nlevel=error', "x"))
    assert r.status_code == 401
    log = own["log"].read_text()
    assert "msg=forged" not in log or 'evil\\"host' in log
    for line in log.splitlines():
        assert line.startswith("ts="), line


def openssl(d, *args):
    subprocess.run(["openssl", *args], cwd=d, check=True,
                   capture_output=True, timeout=60)


def make_cert(d, name, ca, san):
    openssl(d, "req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}")
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
            "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", f"{name}.crt",
            "-days", "2", "-extfile", f"{name}.ext")


def peer_cn(port, d):
    """The common name of the certificate served on port."""
    ctx = ssl.create_default_context(cafile=str(d / "ca.crt"))
    ctx.load_cert_chain(d / "client.crt", d / "client.key")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


def test_https_with_client_certificates(tmp_path, fleet):
    """tls_server_config as exporter-toolkit has it: HTTPS, client
    certificates required and verified, basic auth on top; the same file
    works with the community exporter; a reload takes a new certificate."""
    d = tmp_path
    for ca in ("ca", "other-ca"):
        openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{ca}.key",
                "-out", f"{ca}.crt", "-days", "2", "-subj", f"/CN={ca}")
    make_cert(d, "server", "ca", "IP:127.0.0.1")
    make_cert(d, "client", "ca", "DNS:prometheus.example")
    make_cert(d, "stranger", "other-ca", "DNS:prometheus.example")
    # (client_allowed_sans is newer than the community exporter here: the
    # unit tests of tls.c cover it.)
    (d / "web.yml").write_text(f"""tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS12
basic_auth_users:
  {USER}: {bcrypt(PASSWORD)}
""")
    (d / "modules.yml").write_text("modules:\n  default:\n    user: admin\n"
                                   "    pass: secret\n"
                                   "    workaround_flags: [opensesspriv]\n"
                                   "    collectors: [chassis]\n")
    log = open(d / "exporter.log", "wb")
    ours = subprocess.Popen(
        [str(TOP / BUILD / "osh-ipmi-exporter"),
         f"--config.file={d / 'modules.yml'}",
         f"--web.config.file={d / 'web.yml'}",
         f"--web.listen-address=127.0.0.1:{TLS_PORT}"],
        stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, OSH_REDIS_HOST="", OSH_SERVER_MGMT_URL=""))
    ref = subprocess.Popen(
        ["prometheus-ipmi-exporter", f"--config.file={d / 'modules.yml'}",
         f"--web.config.file={d / 'web.yml'}",
         f"--web.listen-address=127.0.0.1:{REF_TLS_PORT}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = (str(d / "client.crt"), str(d / "client.key"))
    stranger = (str(d / "stranger.crt"), str(d / "stranger.key"))
    ca = str(d / "ca.crt")
    try:
        for port in (TLS_PORT, REF_TLS_PORT):
            base = f"https://127.0.0.1:{port}"

            def up():
                try:
                    requests.get(base + "/metrics", verify=ca, cert=client,
                                 timeout=2)
                    return True
                except requests.RequestException:
                    return False
            wait_for(up, timeout=20, what=f"HTTPS on {port}")
            r = requests.get(base + "/metrics", verify=ca, cert=client,
                             auth=(USER, PASSWORD), timeout=10)
            assert r.status_code == 200, port
            r = requests.get(base + "/ipmi", verify=ca, cert=client,
                             auth=(USER, PASSWORD), timeout=30,
                             params={"target": f"127.0.0.1:{FLEET_PORT}"})
            assert r.status_code == 200
            assert series(r.text)[("ipmi_up", frozenset(
                {("collector", "chassis")}))] == 1
            # Basic auth still wanted over TLS.
            r = requests.get(base + "/metrics", verify=ca, cert=client,
                             timeout=10)
            assert r.status_code == 401
            # No client certificate, or one of another CA: no connection.
            for cert in (None, stranger):
                with pytest.raises(requests.exceptions.RequestException):
                    requests.get(base + "/metrics", verify=ca, cert=cert,
                                 auth=(USER, PASSWORD), timeout=10)
            # Plain HTTP gets nothing either (Go answers it 400).
            try:
                r = requests.get(f"http://127.0.0.1:{port}/metrics",
                                 auth=(USER, PASSWORD), timeout=10)
                assert r.status_code == 400 and "ipmi" not in r.text
            except requests.exceptions.RequestException:
                pass
        # A reload re-reads the web configuration and its files: a new
        # server certificate is served to new connections.
        assert peer_cn(TLS_PORT, d) == "server"
        make_cert(d, "server2", "ca", "IP:127.0.0.1")
        shutil.copy(d / "server2.crt", d / "server.crt")
        shutil.copy(d / "server2.key", d / "server.key")
        r = requests.post(f"https://127.0.0.1:{TLS_PORT}/-/reload",
                          verify=ca, cert=client, auth=(USER, PASSWORD),
                          timeout=10)
        assert r.status_code == 200, r.text
        assert peer_cn(TLS_PORT, d) == "server2"
        # A web configuration whose certificate does not load is refused
        # and the running one stays.
        (d / "server.key").write_text("not a key\n")
        r = requests.post(f"https://127.0.0.1:{TLS_PORT}/-/reload",
                          verify=ca, cert=client, auth=(USER, PASSWORD),
                          timeout=10)
        assert r.status_code == 500 and "tls_server_config" in r.text
        assert peer_cn(TLS_PORT, d) == "server2"
        # client_allowed_sans on certificates nobody verifies: loaded, as
        # exporter-toolkit loads it, with a warning naming both keys and
        # their lines; and indeed a certificate of another CA carrying
        # the name gets in.
        shutil.copy(d / "server2.key", d / "server.key")
        (d / "web.yml").write_text(f"""tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAnyClientCert
  client_allowed_sans: [prometheus.example]
basic_auth_users:
  {USER}: {bcrypt(PASSWORD)}
""")
        r = requests.post(f"https://127.0.0.1:{TLS_PORT}/-/reload",
                          verify=ca, cert=client, auth=(USER, PASSWORD),
                          timeout=10)
        assert r.status_code == 200, r.text
        assert re.search(r'level=warn .*msg="web configuration: line 5: '
                         r'client_allowed_sans with client_auth_type '
                         r'RequireAnyClientCert \(line 4\) checks names in '
                         r'certificates nobody verified.*self-signed.*'
                         r'RequireAndVerifyClientCert',
                         (d / "exporter.log").read_text())
        r = requests.get(f"https://127.0.0.1:{TLS_PORT}/metrics", verify=ca,
                         cert=stranger, auth=(USER, PASSWORD), timeout=10)
        assert r.status_code == 200
    finally:
        for p in (ours, ref):
            p.terminate()
            p.wait(timeout=30)
        log.close()

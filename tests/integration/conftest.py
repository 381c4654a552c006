"""Shared fixtures: the stack started by tests/integration/run.sh, an API
client that checks every answer against proto/openapi.yaml, users of each
role, and helpers to reach Redis, PostgreSQL and the service logs."""
import fcntl
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml

TOP = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("OSH_RUN_DIR", TOP / "build" / "test-run"))
OFF = int(os.environ.get("OSH_PORT_OFFSET", "10000"))
GATEWAY = f"http://127.0.0.1:{8080 + OFF}"
PORTS = {"auth": 8101 + OFF, "server-mgmt": 8102 + OFF,
         "cluster-mgmt": 8103 + OFF,
         "ipmi-exporter": 9290 + OFF, "alert-webhook": 8105 + OFF}
PROMETHEUS = f"http://127.0.0.1:{9090 + OFF}"
ALERTMANAGER = f"http://127.0.0.1:{9093 + OFF}"
PG_PORT = 15432 + OFF
REDIS_PORT = 16379 + OFF


class OpenApi:
    """Finds the schema of an answer in the spec and validates it."""

    def __init__(self, path):
        self.spec = yaml.safe_load(path.read_text())
        self.routes = []
        for tmpl, ops in self.spec["paths"].items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
            self.routes.append((re.compile(rx), tmpl, ops))

    def _resolve(self, node):
        if isinstance(node, dict):
            if "$ref" in node:
                target = self.spec
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return self._resolve(target)
            out = {}
            for k, v in node.items():
                if k == "nullable":
                    continue
                out[k] = self._resolve(v)
            if node.get("nullable"):
                return {"anyOf": [out, {"type": "null"}]}
            return out
        if isinstance(node, list):
            return [self._resolve(v) for v in node]
        return node

    def operation(self, method, path):
        for rx, tmpl, ops in self.routes:
            if rx.match(path):
                return tmpl, ops.get(method.lower())
        return None, None

    def check(self, method, path, resp):
        tmpl, op = self.operation(method, path)
        assert tmpl is not None, f"{path} is not in openapi.yaml"
        assert op is not None, f"{method} {tmpl} is not in openapi.yaml"
        code = str(resp.status_code)
        responses = op["responses"]
        assert code in responses or "default" in responses, (
            f"{method} {tmpl} answered {code}, not documented")
        doc = self._resolve(responses.get(code, responses.get("default")))
        content = doc.get("content")
        if not content:
            assert resp.content == b"", f"{method} {tmpl} {code} has a body"
            return
        ctype = resp.headers.get("Content-Type", "").split(";")[0]
        assert ctype in content, f"{method} {tmpl} {code}: {ctype}"
        schema = content[ctype].get("schema")
        if ctype == "application/json" and schema:
            jsonschema.validate(resp.json(), schema)


OPENAPI = OpenApi(TOP / "proto" / "openapi.yaml")


class Api:
    """A client of the gateway. Every answer to /api/* is checked against
    the OpenAPI description."""

    def __init__(self, token=None, source=None, creds=None):
        self.token = token
        # (username, password) of a session-long client: its access token
        # lives 15 minutes, the suite longer, so an expired one is renewed
        # by logging in again (once per expiry, then the call is retried).
        self.creds = creds
        self.s = requests.Session()
        if source is not None:
            adapter = SourceAdapter(source)
            self.s.mount("http://", adapter)

    def call(self, method, path, json_body=None, token="default",
             headers=None, data=None, check=True, params=None):
        h = dict(headers or {})
        tok = self.token if token == "default" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        if json_body is not None and data is None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        r = self.s.request(method, GATEWAY + path, data=data, headers=h,
                           params=params, timeout=30)
        if (r.status_code == 401 and token == "default" and self.creds and
                "token expired" in r.text):
            self.token = login(*self.creds)["access_token"]
            h["Authorization"] = f"Bearer {self.token}"
            r = self.s.request(method, GATEWAY + path, data=data, headers=h,
                               params=params, timeout=30)
        # Gateway answers (502-504, 413, 429) are the same everywhere.
        if check and path.startswith("/api/") and r.status_code not in (
                413, 429, 502, 503, 504):
            OPENAPI.check(method, path.split("?")[0], r)
        return r

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, json_body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from a given loopback address (127.0.0.x), so a test can
    look like another client to the gateway."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.source, 0)
        return super().init_poolmanager(*a, **kw)


def login(username, password, api=None):
    r = (api or Api()).post("/api/auth/login",
                            {"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def redis(*args):
    env = dict(os.environ, REDISCLI_AUTH=(RUN / "secrets" / "redis-password")
               .read_text().strip())
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p",
                          str(REDIS_PORT), "--no-raw", *args],
                         capture_output=True, text=True, env=env, timeout=10)
    text = out.stdout.strip()
    return text[len("(integer) "):] if text.startswith("(integer) ") else text


def psql(sql):
    env = dict(os.environ, PGPASSWORD=(RUN / "secrets" / "db-password")
               .read_text().strip())
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT),
                          "-U", "osh", "-d", "osh", "-At", "-c", sql],
                         capture_output=True, text=True, env=env, timeout=20)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def wait_for(fn, timeout=10.0, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def pg(action):
    """Stops or starts the stack's PostgreSQL (pg_ctl)."""
    data = os.path.realpath(RUN / "pg") + "/data"
    pgbin = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    ctl = f"/usr/lib/postgresql/{pgbin}/bin/pg_ctl"
    cmd = [ctl, "-D", data, "-w", "-m", "fast", action]
    if action == "start":
        port = int(os.environ.get("OSH_PORT_OFFSET", "10000")) + 15432
        cmd = [ctl, "-D", data, "-w", "-l",
               os.path.realpath(RUN / "pg") + "/postgres.log",
               "-o", f"-p {port}", "start"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def sse_read(url, last=None, stop=None, timeout=20):
    """Reads the Server-Sent Events of a gateway URL (each a dict of its
    fields: id, event, data) until stop(events) or the end."""
    h = {"Accept": "text/event-stream"}
    if last:
        h["Last-Event-ID"] = last
    got = []
    with requests.get(GATEWAY + url, headers=h, stream=True,
                      timeout=timeout) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        ev = {}
        for line in r.iter_lines(decode_unicode=True):
            if line == "":
                if "id" in ev:
                    got.append(ev)
                    if stop and stop(got):
                        break
                ev = {}
            elif not line.startswith(":") and ":" in line:
                k, v = line.split(":", 1)
                ev[k] = v.strip()
    return got


def logs(service):
    return (RUN / "logs" / f"{service}.log").read_text(errors="replace")


@pytest.fixture(autouse=True)
def clear_throttle():
    keys = redis("--scan", "--pattern", "osh:login:fail:*").split()
    if keys:
        redis("DEL", *[k.strip('"') for k in keys])
    yield


@pytest.fixture(scope="session")
def admin_password():
    return (RUN / "admin-password").read_text().strip()


@pytest.fixture(scope="session")
def admin(admin_password):
    return Api(login("admin", admin_password)["access_token"],
               creds=("admin", admin_password))


def new_password():
    return "pw-" + secrets.token_urlsafe(12)


@pytest.fixture(scope="session")
def make_user(admin):
    """Creates a user of a role; returns (user, password, Api)."""
    def make(role, **extra):
        name = f"{role}-{secrets.token_hex(4)}"
        pw = new_password()
        r = admin.post("/api/users", {"username": name, "password": pw,
                                      "role": role, **extra})
        assert r.status_code == 201, r.text
        tokens = login(name, pw)
        return r.json(), pw, Api(tokens["access_token"], creds=(name, pw))
    return make


@pytest.fixture(scope="session")
def operator(make_user):
    return make_user("operator")[2]


@pytest.fixture(scope="session")
def viewer(make_user):
    return make_user("viewer")[2]


# Simulated BMCs of the tests' own (the stack registers three of its own
# at 9001-9003 + offset; these sit elsewhere, offset too, so that stacks
# of different offsets run side by side).
FLEET = RUN / "fleet"
FLEET_PORT = 9101 + OFF
FLEET_COUNT = 5
SILENT_PORT, OTHERCREDS_PORT, IPMI15_PORT = 9150 + OFF, 9151 + OFF, \
    9152 + OFF
NOTHING_PORT = 9199 + OFF  # nothing listens there
SIM = str(TOP / "deploy" / "sim" / "osh-sim")


def load_oshsim():
    """deploy/sim/osh-sim as a module, for tests that build BMCs of their
    own (describe, start_one, wait_up, save)."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("oshsim", SIM)
    spec = importlib.util.spec_from_loader("oshsim", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


OSHSIM = load_oshsim()


@pytest.fixture(scope="module", autouse=True)
def share_the_machine(request):
    """Two stacks side by side (shards.py) share the machine: a heavy
    file holds OSH_TEST_MACHINE_LOCK alone, a timing file shares it with
    other timing files. Unset (one stack): nothing to share."""
    lock = os.environ.get("OSH_TEST_MACHINE_LOCK")
    name = Path(str(request.fspath)).name
    heavy = name in os.environ.get("OSH_TEST_HEAVY", "").split(",")
    timing = name in os.environ.get("OSH_TEST_TIMING", "").split(",")
    if not lock or not (heavy or timing):
        yield
        return
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        t0 = time.time()
        fcntl.flock(fd, fcntl.LOCK_EX if heavy else fcntl.LOCK_SH)
        if time.time() - t0 > 1:
            print(f"\n{name} waited {time.time() - t0:.0f} s for the "
                  "other stack's heavy tests")
        yield
    finally:
        os.close(fd)  # the lock goes with it


def sim(*args):
    out = subprocess.run([sys.executable, SIM, *args], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="session")
def fleet():
    sim("up", str(FLEET), "--count", str(FLEET_COUNT), "--port",
        str(FLEET_PORT))
    sim("add", str(FLEET), "--kind", "silent", "--port", str(SILENT_PORT))
    sim("add", str(FLEET), "--kind", "othercreds", "--port",
        str(OTHERCREDS_PORT))
    sim("add", str(FLEET), "--kind", "ipmi15", "--port", str(IPMI15_PORT))
    data = json.loads(sim("show", str(FLEET)))
    yield {f"127.0.0.1:{b['port']}": b for b in data["bmcs"]}
    sim("down", str(FLEET))


def ipmipower(port, *args, user="admin", password="secret", v20=True):
    cmd = ["ipmipower", "-h", f"127.0.0.1:{port}", "-u", user, "-p",
           password, "-D", "LAN_2_0" if v20 else "LAN"]
    if v20:
        cmd += ["-W", "opensesspriv"]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True,
                         timeout=30)
    return out.stdout.strip()


def server_body(port, name=None, **extra):
    body = {"name": name or f"srv-{port}-{secrets.token_hex(3)}",
            "bmc_address": f"127.0.0.1:{port}",
            "workarounds": ["opensesspriv"],
            "credentials": {"username": "admin", "password": "secret"}}
    body.update(extra)
    return body


EVENT_SCHEMAS = {p.stem: json.loads(p.read_text())
                 for p in (TOP / "proto" / "events").glob("*.json")}


class Events:
    """Listens on osh:events while a test runs."""

    def __init__(self):
        import threading
        env = dict(os.environ, REDISCLI_AUTH=(
            RUN / "secrets" / "redis-password").read_text().strip())
        self.proc = subprocess.Popen(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(REDIS_PORT), "--raw",
             "SUBSCRIBE", "osh:events"], stdout=subprocess.PIPE, text=True,
            env=env)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        # Subscribed once Redis says so ("subscribe", the channel, the
        # count): a loaded machine takes a while to start redis-cli.
        wait_for(lambda: "subscribe" in self.lines, timeout=20,
                 interval=0.02, what="the events subscription")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def events(self):
        """Every event so far, each checked against proto/events."""
        out = []
        for line in list(self.lines):
            if line.startswith("{"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                jsonschema.validate(ev, EVENT_SCHEMAS["envelope"])
                assert ev["type"] in EVENT_SCHEMAS, ev["type"]
                jsonschema.validate(ev["data"], EVENT_SCHEMAS[ev["type"]])
                out.append(ev)
        return out

    def wait(self, pred, timeout=10):
        return wait_for(lambda: [e for e in self.events() if pred(e)],
                        timeout=timeout, what="an event")

    def close(self):
        self.proc.terminate()


@pytest.fixture
def events():
    ev = Events()
    yield ev
    ev.close()

"""compose.yaml, run natively (no container engine runs on these machines):
each container of ours is started as a process with exactly the
environment, command and health check that docker-compose config gives
it, only host names, ports and paths mapped onto this machine, so that a
misspelt variable, a secret a service is not given or a wrong path fails
here rather than at a user's.

The mapping: a compose service's name and port become 127.0.0.1 and a
port of this test (its stack port + SHIFT for what runs here, the stack's
own for PostgreSQL, Alertmanager and Prometheus); /run/secrets/ becomes a
directory holding links to the stack's secret files, only those the
service lists under secrets:; each volume and tmpfs becomes a directory
of the test; PostgreSQL is the stack's server with a scratch database
(db-init makes the roles' schemas in it, the services migrate it from
nothing, auth creates the first admin). Redis runs from compose's own
command, on a port of its own. The gateway runs its image's entrypoint
with the image's file layout, in front of the services run here.

Not run here: the postgres, prometheus, alertmanager and grafana images
(their configuration files are checked by tests/deploy/test_rendered.py:
promtool, amtool), and the sim profile."""
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from conftest import (ALERTMANAGER, OFF, PG_PORT, PORTS, PROMETHEUS,
                      REDIS_PORT, RUN, TOP)

BUILD = Path(os.environ.get("BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = TOP / BUILD
SHIFT = 50
# The port each compose service listens on inside its container.
INTERNAL = {"postgres": 5432, "redis": 6379, "auth": 8101,
            "server-mgmt": 8102, "cluster-mgmt": 8103, "alert-webhook": 8105,
            "ipmi-exporter": 9290, "gateway": 8080, "alertmanager": 9093,
            "prometheus": 9090, "grafana": 3000}
OSH = ["auth", "server-mgmt", "cluster-mgmt", "alert-webhook", "ipmi-exporter"]
SCRATCH = f"osh_compose_{OFF}"


def compose_config():
    out = subprocess.run(["docker-compose", "--profile", "sim", "--profile", "admin", "config"],
                         cwd=TOP, check=True, capture_output=True,
                         text=True).stdout
    # docker-compose writes a literal $ as $$, as in the file.
    return yaml.safe_load(out.replace("$$", "$"))


def stack_secret(name):
    if name == "admin-password":
        return RUN / "admin-password"
    return RUN / "secrets" / name


def as_postgres_psql(sql, db="postgres"):
    r = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q",
                        "-h", "/tmp", "-p", str(PG_PORT), "-U", "postgres",
                        "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Native:
    """compose.yaml's services as processes on this machine."""

    def __init__(self, cfg, tmp):
        self.cfg = cfg
        self.tmp = Path(tmp)
        self.procs = {}
        self.ports = {"postgres": PG_PORT, "redis": REDIS_PORT + SHIFT,
                      "alertmanager": int(ALERTMANAGER.rsplit(":", 1)[1]),
                      "prometheus": int(PROMETHEUS.rsplit(":", 1)[1]),
                      "gateway": 8080 + OFF + SHIFT,
                      # Nothing listens there: Grafana does not run here.
                      "grafana": 8080 + OFF + SHIFT + 1}
        for s in OSH:
            self.ports[s] = PORTS[s] + SHIFT

    def svc(self, name):
        return self.cfg["services"][name]

    def dirs(self, name):
        """Each volume target and tmpfs of a service: a directory here."""
        s = self.svc(name)
        out = {}
        for i, v in enumerate(s.get("volumes", [])):
            src, dst = v.split(":")[:2] if isinstance(v, str) else \
                (v["source"], v["target"])
            if src.startswith("/"):
                out[dst] = src
            else:
                d = self.tmp / name / f"volume-{i}"
                d.mkdir(parents=True, exist_ok=True)
                out[dst] = str(d)
        tmpfs = s.get("tmpfs", [])
        for t in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
            d = self.tmp / name / ("tmpfs" + t.split(":")[0].replace("/", "-"))
            d.mkdir(parents=True, exist_ok=True)
            out[t.split(":")[0]] = str(d)
        sec = self.tmp / name / "secrets"
        sec.mkdir(parents=True, exist_ok=True)
        for x in s.get("secrets", []):
            link = sec / x["source"]
            if not link.exists():
                link.symlink_to(stack_secret(x["source"]))
        out["/run/secrets"] = str(sec)
        return out

    def map_text(self, name, text):
        ports = self.ports
        # Another service's host:port (and one's own 127.0.0.1:port).
        text = re.sub(
            r"\b([a-z][a-z0-9-]*):(\d+)\b",
            lambda m: f"127.0.0.1:{ports[m[1]]}"
            if m[1] in ports and int(m[2]) == INTERNAL[m[1]] else m[0], text)
        text = re.sub(
            r"127\.0\.0\.1:(\d+)\b",
            lambda m: f"127.0.0.1:{ports[name]}"
            if name in INTERNAL and int(m[1]) == INTERNAL[name] else m[0],
            text)
        text = re.sub(
            r"host=([a-z][a-z0-9-]*) port=(\d+)",
            lambda m: f"host=127.0.0.1 port={ports[m[1]]}", text)
        text = text.replace("dbname=osh ", f"dbname={SCRATCH} ")
        if name in INTERNAL:
            text = re.sub(rf"\bport {INTERNAL[name]}\b",
                          f"port {ports[name]}", text)
        # Paths, in one pass (a mapped path is not mapped again).
        dirs = self.dirs(name)
        alt = "|".join(re.escape(d) for d in sorted(dirs, key=len,
                                                     reverse=True))
        return re.sub(rf"(?<![\w/.-])({alt})(?=[/\s'\"\\]|$)",
                      lambda m: dirs[m[1]], text)

    def env(self, name):
        # The images' PATH (Debian's), the binaries built here first.
        out = {"PATH": f"{BUILD}:/usr/local/sbin:/usr/local/bin:"
                       "/usr/sbin:/usr/bin:/sbin:/bin"}
        # The test harness's sanitizer settings (SAN=1), not compose's.
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                out[k] = os.environ[k]
        for k, v in (self.svc(name).get("environment") or {}).items():
            v = "" if v is None else str(v)
            if k == "OSH_REDIS_PORT":
                v = str(self.ports["redis"])
            elif k == "OSH_LISTEN_ADDR":
                v = "127.0.0.1"  # not every address of a shared machine
            elif k in ("OSH_PORT", "OSH_GATEWAY_PORT"):
                v = str(self.ports[name])
            elif k == "PGPORT":
                v = str(PG_PORT)
            elif k == "PGDATABASE":
                v = SCRATCH
            elif k == "PGHOST":
                v = "/tmp"  # the stack's socket: peer authentication
            elif k == "PGUSER":
                v = "postgres"
            elif v in self.ports:
                v = "127.0.0.1"
            out[k] = self.map_text(name, v)
        return out

    def argv(self, name, key=None):
        s = self.svc(name)
        if key:
            return [self.map_text(name, a) for a in s["healthcheck"]["test"]]
        argv = (s.get("entrypoint") or []) + (s.get("command") or [])
        return [self.map_text(name, a) for a in argv]

    def start(self, name, argv=None, env=None, user=None):
        argv = argv or self.argv(name)
        env = env or self.env(name)
        log = open(self.tmp / f"{name}.log", "ab")
        pre = ["runuser", "-u", user, "--", "env", "-i",
               *[f"{k}={v}" for k, v in env.items()]] if user else []
        p = subprocess.Popen(pre + argv, env=None if user else env,
                             stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             cwd=self.tmp, start_new_session=True)
        self.procs[name] = p
        return p

    def log(self, name):
        f = self.tmp / f"{name}.log"
        return f.read_text(errors="replace")[-3000:] if f.exists() else ""

    def healthcheck(self, name):
        test = self.argv(name, key="healthcheck")
        env = self.env(name)
        if test[0] == "CMD-SHELL":
            argv = ["sh", "-c", test[1]]
        else:
            assert test[0] == "CMD", test
            argv = test[1:]
        return subprocess.run(argv, env=env, capture_output=True,
                              timeout=10).returncode == 0

    def wait_healthy(self, name, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.procs[name]
            assert p.poll() is None, (
                f"{name} exited ({p.returncode}):\n{self.log(name)}")
            if self.healthcheck(name):
                return
            time.sleep(0.3)
        raise AssertionError(f"{name} not healthy:\n{self.log(name)}")

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for name, p in self.procs.items():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def run_db_init(n, attempt):
    """db-init as the postgres user (peer authentication on the stack's
    socket), its secrets copied where that user can read them."""
    name = "db-init"
    sec = Path(n.dirs(name)["/run/secrets"])
    private = n.tmp / f"db-init-secrets-{attempt}"
    private.mkdir(mode=0o700)
    for x in n.svc(name)["secrets"]:
        shutil.copy(stack_secret(x["source"]), private / x["source"])
    shutil.chown(private, "postgres")
    for f in private.iterdir():
        shutil.chown(f, "postgres")
        f.chmod(0o600)
    env = {k: v.replace(str(sec), str(private))
           for k, v in n.env(name).items()}
    argv = [a.replace(str(sec), str(private)) for a in n.argv(name)]
    # The script is read by the postgres user: from a copy it can reach.
    script = n.tmp / "db-init.sh"
    shutil.copy(argv[1], script)
    script.chmod(0o644)
    argv[1] = str(script)
    os.chmod(n.tmp, 0o755)
    p = n.start(f"{name}-{attempt}", argv=argv, env=env, user="postgres")
    assert p.wait(timeout=120) == 0, n.log(f"{name}-{attempt}")


@pytest.fixture(scope="module")
def native():
    assert os.geteuid() == 0, "runs db-init as the postgres user: needs root"
    cfg = compose_config()
    tmp = tempfile.mkdtemp(prefix="osh-compose-")
    n = Native(cfg, tmp)
    as_postgres_psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
    as_postgres_psql(f"CREATE DATABASE {SCRATCH}")
    try:
        n.start("redis")
        n.wait_healthy("redis")
        # Twice: it runs at every start, the second time over its own work.
        run_db_init(n, 1)
        run_db_init(n, 2)
        for name in OSH:
            n.start(name)
            n.wait_healthy(name)
        n.start("gateway", argv=[str(TOP / "deploy/docker/gateway-entrypoint.sh")],
                env=gateway_env(n))
        n.wait_healthy("gateway")
        yield n
    finally:
        n.stop()
        as_postgres_psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


def gateway_env(n):
    """The gateway's environment, and the image's file layout
    (gateway.Containerfile's COPY lines) in a directory here."""
    conf = n.tmp / "etc-osh-nginx"
    (conf / "routes").mkdir(parents=True)
    # What the Containerfile copies under /etc/osh/nginx/, read from it.
    cf = (TOP / "deploy/docker/gateway.Containerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+)$", cf, re.M):
        *srcs, dst = line.split()
        if not dst.startswith("/etc/osh/nginx/"):
            continue
        into = conf / dst[len("/etc/osh/nginx/"):]
        for src in srcs:
            for f in TOP.glob(src.rstrip("/") + ("/*" if src.endswith("/")
                                                 else "")):
                shutil.copy(f, into / f.name)
    env = n.env("gateway")
    env["OSH_GATEWAY_CONF"] = str(conf)
    env["OSH_GATEWAY_RUN"] = str(n.tmp / "gateway-run")
    return env


def test_every_osh_variable_is_read_and_valid(native):
    """--check-config with the mapped environment: every OSH_* variable
    compose gives is one the service reads, and every value is valid
    (files readable: the secrets it names are its own)."""
    for name in OSH:
        s = native.svc(name)
        env = native.env(name)
        binary = re.search(r"osh-[a-z-]+", " ".join(s["command"]))[0]
        r = subprocess.run([str(BUILD / binary), "--check-config"], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{name}: {r.stderr}"
        read = {ln.split("=", 1)[0] for ln in r.stdout.splitlines()}
        unknown = {k for k in env if k.startswith("OSH_")} - read
        assert not unknown, f"{name}: {binary} reads no {sorted(unknown)}"


def test_gateway_routes_to_the_services(native, admin_password):
    gw = f"http://127.0.0.1:{native.ports['gateway']}"
    assert requests.get(f"{gw}/health", timeout=5).status_code == 200
    # auth created the first admin from its secret in the new database.
    r = requests.post(f"{gw}/api/auth/login", timeout=30,
                      json={"username": "admin", "password": admin_password})
    assert r.status_code == 200, r.text
    h = {"Authorization": "Bearer " + r.json()["access_token"]}
    for path in ("/api/servers", "/api/clusters", "/api/jobs",
                 "/api/monitoring/alerts", "/api/users"):
        r = requests.get(gw + path, headers=h, timeout=30)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    assert requests.get(f"{gw}/api/servers", headers=h,
                        timeout=30).json()["total"] == 0
    assert requests.get(f"{gw}/internal/x", timeout=5).status_code == 404
    # Grafana's route exists; Grafana does not run here: the JSON 503.
    r = requests.get(f"{gw}/grafana/", timeout=10)
    assert r.status_code in (502, 503) and r.json()["error"]["code"] == \
        "unavailable", r.text


def test_migrations_ran_in_the_new_database(native):
    for schema in ("auth", "server_mgmt", "cluster_mgmt", "alert_webhook"):
        owner = as_postgres_psql(
            f"SELECT nspowner::regrole FROM pg_namespace "
            f"WHERE nspname = '{schema}'", db=SCRATCH)
        assert owner == f"osh_{schema}"
        n = as_postgres_psql(f"SELECT count(*) FROM {schema}.schema_migrations",
                             db=SCRATCH)
        assert int(n) > 0, schema


def test_exporter_wants_the_password_compose_gives_prometheus(native):
    url = f"http://127.0.0.1:{native.ports['ipmi-exporter']}/metrics"
    assert requests.get(url, timeout=10).status_code == 401
    pw = stack_secret("exporter-password").read_text().strip()
    assert requests.get(url, auth=("prometheus", pw),
                        timeout=10).status_code == 200


def test_redis_has_a_password_and_aof(native):
    port = str(native.ports["redis"])
    r = subprocess.run(["redis-cli", "-p", port, "PING"],
                       capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert "NOAUTH" in r.stdout + r.stderr
    env = {"PATH": "/usr/bin", "REDISCLI_AUTH":
           stack_secret("redis-password").read_text().strip()}
    r = subprocess.run(["redis-cli", "-p", port, "CONFIG", "GET", "appendonly"],
                       capture_output=True, text=True, env=env)
    assert r.stdout.split() == ["appendonly", "yes"], r.stdout


def test_welcome_prints_the_first_admin_once(native, admin_password):
    out = []
    for _ in range(2):
        r = subprocess.run(native.argv("welcome"), env=native.env("welcome"),
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        out.append(r.stdout)
    assert f"First admin login: admin / {admin_password}" in out[0]
    assert admin_password not in out[1]
    assert "Admin login: admin (password in secrets/admin-password)" in out[1]


def test_admin_checks_and_backs_up_through_a_pipe(native):
    """The admin service (osh-admin, /usr/local/bin in the image): its
    default command, check-config, passes with the environment and the
    secrets compose gives it, and "backup -" pipes a backup of the
    deployment's database and Redis out on standard output."""
    env = native.env("admin")
    env["PATH"] = f"{TOP / 'deploy/admin'}:{env['PATH']}"
    r = subprocess.run(native.argv("admin"), env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "configuration valid" in r.stderr
    r = subprocess.run(["osh-admin", "backup", "-"], env=env,
                       capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
        assert {"manifest.json", "pg.dump", "redis.jsonl"} == \
            set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert all(manifest["migrations"][s] for s in (
        "auth", "server_mgmt", "cluster_mgmt", "alert_webhook"))

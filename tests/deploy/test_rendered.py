"""Static checks of the deployments (make deploy-check): compose.yaml as
docker-compose renders it, and every kustomize overlay (and the base) as
kubectl kustomize renders it. No container engine runs here: what is
checked is what can be without one, over the rendered objects.

Kubernetes: every container has probes (Jobs aside), resources and a
non-root, read-only security context without privilege escalation; every
ConfigMap, Secret (deploy/k8s/secret-template.yaml for osh-secrets) and
Service a workload names exists, with the keys and ports named; every
OSH_* variable is one its binary reads (its --check-config); the exporter
shards agree with the hashmod modulus of each scrape configuration.

Compose: only the gateway publishes a port; every file under /run/secrets
a container is given (environment, command, health check, mounted
configuration) is one of its secrets; every secret file is one
deploy/docker/compose-secrets.sh makes; every OSH_* variable is one the
service's binary reads; the configurations rendered from the templates are
current."""
import os
import re
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BUILD", TOP / "build"))
if not BUILD.is_absolute():
    BUILD = TOP / BUILD
K8S = TOP / "deploy" / "k8s"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def kustomize(path):
    out = subprocess.run(["kubectl", "kustomize", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@lru_cache(maxsize=None)
def compose():
    out = subprocess.run(["docker-compose", "--profile", "sim", "--profile", "admin", "config"],
                         cwd=TOP, check=True, capture_output=True,
                         text=True).stdout
    return yaml.safe_load(out)


ADMIN = TOP / "deploy" / "admin" / "osh-admin"


@lru_cache(maxsize=None)
def known_vars(binary):
    """The OSH_* variables an osh binary reads: its --check-config lists
    them all once every required one is set (to any readable file). For
    osh-admin (a script, not built): its SETTINGS table."""
    if binary == "osh-admin":
        text = ADMIN.read_text()
        start = text.index("\nSETTINGS = (")
        table = text[start:text.index("\n)\n", start)]
        names = set(re.findall(r'\("(OSH_[A-Z0-9_]+)"', table))
        assert names, "osh-admin: no SETTINGS"
        return names
    path = BUILD / binary
    assert path.exists(), f"{path} is not built (make bins)"
    env = {"PATH": "/usr/bin:/bin"}
    for _ in range(20):
        r = subprocess.run([str(path), "--check-config"], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return {ln.split("=", 1)[0] for ln in r.stdout.splitlines()
                    if ln.startswith("OSH_")}
        m = re.search(r"configuration error: (OSH_[A-Z0-9_]+):", r.stderr)
        assert m, f"{binary} --check-config: {r.stderr}"
        env[m.group(1)] = "/etc/hostname"
    raise AssertionError(f"{binary}: --check-config never passed")


def osh_binary(argv):
    """The osh binary a command runs: its first word, or what a shell
    script execs."""
    text = " ".join(argv or [])
    m = re.search(r"(?:^|exec |\s)(osh-[a-z-]+)\b", text)
    if m and m.group(1) == "osh-admin":
        return "osh-admin"
    if m and (BUILD / m.group(1)).exists():
        return m.group(1)
    return None


def secret_keys_of_template():
    doc = yaml.safe_load((K8S / "secret-template.yaml").read_text())
    return doc["metadata"]["name"], set(doc["stringData"])


# ---------------------------------------------------------------- Kubernetes

def rendered_sets():
    sets = [("base", K8S / "base")] + [(p.name, p) for p in OVERLAYS]
    return {name: kustomize(path) for name, path in sets}


RENDERED = None


def objects(name):
    global RENDERED
    if RENDERED is None:
        RENDERED = rendered_sets()
    return RENDERED[name]


def index(objs):
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def pod_spec(o):
    return o["spec"]["template"]["spec"]


def named_ports(container):
    return {p.get("name"): p["containerPort"]
            for p in container.get("ports", [])}


ALL_SETS = ["base"] + [p.name for p in OVERLAYS]


def test_overlays_exist():
    assert OVERLAYS, "deploy/k8s/overlays/ has no overlay"


@pytest.mark.parametrize("name", ALL_SETS)
def test_containers_are_locked_down(name):
    for o in objects(name):
        if o["kind"] not in WORKLOADS:
            continue
        spec = pod_spec(o)
        what = f"{o['kind']}/{o['metadata']['name']}"
        psc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, what
        for c in spec.get("initContainers", []) + spec["containers"]:
            cw = f"{what} container {c['name']}"
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, cw
            assert sc.get("readOnlyRootFilesystem") is True, cw
            assert sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, cw
            assert sc.get("runAsUser", psc.get("runAsUser", 1)) != 0, cw
            assert sc.get("privileged", False) is False, cw
            assert "ALL" in sc.get("capabilities", {}).get("drop", []), cw
            res = c.get("resources", {})
            assert res.get("requests", {}).get("cpu"), f"{cw}: cpu request"
            assert res.get("requests", {}).get("memory"), f"{cw}: memory request"
            assert res.get("limits", {}).get("memory"), f"{cw}: memory limit"
            if o["kind"] == "Job":
                continue
            ports = named_ports(c)
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe)
                assert p and "httpGet" in p, f"{cw}: no HTTP {probe}"
                port = p["httpGet"]["port"]
                assert port in ports or port in ports.values(), (
                    f"{cw}: {probe} port {port} is not a container port")
            if c["name"] != "gateway":
                assert c["readinessProbe"]["httpGet"]["path"] == "/ready", cw
                assert c["livenessProbe"]["httpGet"]["path"] == "/health", cw


@pytest.mark.parametrize("name", ALL_SETS)
def test_references_exist(name):
    objs = objects(name)
    idx = index(objs)
    tname, tkeys = secret_keys_of_template()

    def secret_keys(sname):
        if sname == tname:
            return tkeys
        o = idx.get(("Secret", sname))
        assert o is not None, f"Secret {sname} is named but does not exist"
        return set(o.get("data", {})) | set(o.get("stringData", {}))

    def cm_keys(cname):
        o = idx.get(("ConfigMap", cname))
        assert o is not None, f"ConfigMap {cname} is named but does not exist"
        return set(o.get("data", {}))

    def service_port(host, port, what):
        svc = idx.get(("Service", host))
        assert svc is not None, f"{what}: no Service {host}"
        ports = [p["port"] for p in svc["spec"]["ports"]]
        assert int(port) in ports, f"{what}: Service {host} has no port {port}"

    ns = None
    for o in objs:
        ns = o["metadata"].get("namespace", ns)
    for o in objs:
        if o["kind"] not in WORKLOADS:
            continue
        spec = pod_spec(o)
        what = f"{o['kind']}/{o['metadata']['name']}"
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        # Files each mount path offers: /run/secrets/<path>.
        files = {}
        for c in spec["containers"]:
            for m in c.get("volumeMounts", []):
                v = vols.get(m["name"])
                assert v is not None, f"{what}: no volume {m['name']}"
                if "secret" in v:
                    keys = secret_keys(v["secret"]["secretName"])
                    items = v["secret"].get("items")
                    for it in items or [{"key": k, "path": k} for k in keys]:
                        assert it["key"] in keys, f"{what}: secret key {it['key']}"
                        files[f"{m['mountPath']}/{it['path']}"] = True
                if "configMap" in v:
                    keys = cm_keys(v["configMap"]["name"])
                    for it in v["configMap"].get("items") or \
                            [{"key": k, "path": k} for k in keys]:
                        assert it["key"] in keys, f"{what}: config key {it['key']}"
                        files[f"{m['mountPath']}/{it['path']}"] = True
                if "emptyDir" in v:
                    files[m["mountPath"] + "/"] = True
        for c in spec["containers"]:
            cw = f"{what} container {c['name']}"
            env = {}
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef:
                    for k in cm_keys(ef["configMapRef"]["name"]):
                        env[k] = idx[("ConfigMap", ef["configMapRef"]["name"])]["data"][k]
                if "secretRef" in ef:
                    secret_keys(ef["secretRef"]["name"])
            for e in c.get("env", []):
                vf = e.get("valueFrom", {})
                if "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    assert r["key"] in cm_keys(r["name"]), f"{cw}: {e['name']}"
                elif "secretKeyRef" in vf:
                    r = vf["secretKeyRef"]
                    assert r["key"] in secret_keys(r["name"]), f"{cw}: {e['name']}"
                else:
                    env[e["name"]] = e.get("value", "")
            binary = osh_binary(c.get("command", []) + c.get("args", []))
            if c["image"].split(":")[0] == "openserverhub/osh":
                assert binary, f"{cw}: runs no osh binary of this build"
            if binary:
                unknown = {k for k in env if k.startswith("OSH_")} - known_vars(binary)
                assert not unknown, f"{cw}: {binary} reads no {sorted(unknown)}"
            text = " ".join(list(env.values()) + c.get("command", []) +
                            c.get("args", []))
            # Every file named under /run/secrets or /etc/osh is mounted.
            for path in re.findall(r"(/run/secrets/[\w.-]+|/etc/osh/[\w.-]+)", text):
                assert path in files, f"{cw}: {path} is not mounted"
            for path in re.findall(r"(/tmp/[\w.-]+)", text):
                assert "/tmp/" in files, f"{cw}: {path}: /tmp is not writable"
            for host, port in re.findall(r"https?://([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)", text):
                service_port(host, port, cw)
            for host, port in re.findall(r"host=([a-z0-9-]+) port=(\d+)", text):
                service_port(host, port, cw)
            if "OSH_REDIS_HOST" in env and env["OSH_REDIS_HOST"]:
                service_port(env["OSH_REDIS_HOST"], env.get("OSH_REDIS_PORT", "6379"), cw)
            for up in env.get("OSH_GATEWAY_UPSTREAMS", "").split():
                host, port = up.split("=", 1)[1].split(":")
                service_port(host, port, cw)
    pods = [(o, pod_spec(o)) for o in objs if o["kind"] in WORKLOADS]
    for o in objs:
        if o["kind"] == "Service" and o["spec"].get("type") != "ExternalName":
            sel = o["spec"]["selector"]
            matched = [(w, s) for w, s in pods
                       if sel.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
            assert matched, f"Service {o['metadata']['name']} selects no pod"
            for p in o["spec"]["ports"]:
                tp = p.get("targetPort", p["port"])
                for w, s in matched:
                    cports = {}
                    for c in s["containers"]:
                        cports.update(named_ports(c))
                    assert tp in cports or tp in cports.values(), (
                        f"Service {o['metadata']['name']}: targetPort {tp} "
                        f"is no port of {w['metadata']['name']}")
        if o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            assert (ref["kind"], ref["name"]) in idx, f"HPA {o['metadata']['name']}"
        if o["kind"] == "PodDisruptionBudget":
            sel = o["spec"]["selector"]["matchLabels"]
            assert any(sel.items() <= w["spec"]["template"]["metadata"]["labels"].items()
                       for w, _ in pods), f"PDB {o['metadata']['name']} selects nothing"
        if o["kind"] == "Ingress":
            for rule in o["spec"]["rules"]:
                for p in rule["http"]["paths"]:
                    b = p["backend"]["service"]
                    svc = idx.get(("Service", b["name"]))
                    assert svc, f"Ingress: no Service {b['name']}"
                    port = b["port"].get("name", b["port"].get("number"))
                    assert port in [q.get("name") for q in svc["spec"]["ports"]] + \
                        [q["port"] for q in svc["spec"]["ports"]], f"Ingress port {port}"
    # Every stateless service runs 2 replicas at least; every API service
    # has an HPA, every workload but Jobs a PDB.
    for o in objs:
        if o["kind"] == "Deployment":
            assert o["spec"]["replicas"] >= 2, o["metadata"]["name"]
            labels = o["spec"]["template"]["metadata"]["labels"]
            if labels.get("app.kubernetes.io/component") == "api":
                assert ("HorizontalPodAutoscaler", o["metadata"]["name"]) in idx
        if o["kind"] in ("Deployment", "StatefulSet"):
            assert ("PodDisruptionBudget", o["metadata"]["name"]) in idx, \
                o["metadata"]["name"]


@pytest.mark.parametrize("name", ALL_SETS)
def test_network_policies(name):
    objs = objects(name)
    pols = [o for o in objs if o["kind"] == "NetworkPolicy"]
    assert any(p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]
               for p in pols), "no default-deny ingress policy"
    for p in pols:
        sel = p["spec"]["podSelector"].get("matchLabels", {})
        for rule in p["spec"].get("ingress", []):
            if not rule.get("from"):
                # Open to all: only the gateway.
                assert sel == {"app.kubernetes.io/name": "osh-gateway"}, \
                    f"{p['metadata']['name']} takes traffic from anywhere"
        if sel.get("app.kubernetes.io/name") == "osh-ipmi-exporter":
            for rule in p["spec"]["ingress"]:
                for f in rule["from"]:
                    assert f["podSelector"]["matchLabels"] == {
                        "app.kubernetes.io/name": "prometheus"}, \
                        "only Prometheus may reach the exporter"
    exporter_pols = [p for p in pols if p["spec"]["podSelector"].get(
        "matchLabels", {}).get("app.kubernetes.io/name") == "osh-ipmi-exporter"]
    assert exporter_pols, "no policy for the exporter"
    # No other policy selects the exporter's pods.
    for p in pols:
        if p in exporter_pols or p["spec"]["podSelector"] == {}:
            continue
        sel = p["spec"]["podSelector"].get("matchLabels", {})
        assert sel.get("app.kubernetes.io/component") != "exporter", p


def shard_rules(relabels, camel):
    src, tgt = ("sourceLabels", "targetLabel") if camel else \
        ("source_labels", "target_label")
    mod = [r for r in relabels if r.get("action", "").lower() == "hashmod"]
    assert len(mod) == 1, "one hashmod rule"
    label = mod[0][tgt]
    addr = [r for r in relabels if r.get(tgt) == "__address__"
            and r.get(src) == [label]]
    assert addr, "the shard label makes the address"
    return mod[0]["modulus"], addr[0]["replacement"]


def check_shards(modulus, replacement, sts, svc, ns):
    assert modulus == sts["spec"]["replicas"], (
        f"hashmod modulus {modulus} but {sts['spec']['replicas']} exporter replicas")
    port = svc["spec"]["ports"][0]["port"]
    want = (f"{sts['metadata']['name']}-$1.{sts['spec']['serviceName']}"
            f".{ns}.svc:{port}")
    assert replacement == want, f"{replacement} != {want}"
    assert svc["spec"].get("clusterIP") == "None"


@pytest.mark.parametrize("name", [p.name for p in OVERLAYS])
def test_scrape_config_shards(name):
    idx = index(objects(name))
    sts = idx[("StatefulSet", "osh-ipmi-exporter")]
    svc = idx[("Service", sts["spec"]["serviceName"])]
    ns = sts["metadata"].get("namespace", "default")
    for (kind, _), o in idx.items():
        if kind == "ScrapeConfig":
            modulus, repl = shard_rules(o["spec"]["relabelings"], True)
            check_shards(modulus, repl, sts, svc, ns)
            url = o["spec"]["httpSDConfigs"][0]["url"]
            assert f"osh-server-mgmt.{ns}.svc:8102" in url, url


def test_sample_scrape_config_shards():
    """The plain Prometheus sample against the base's replicas, in the
    namespace it names; promtool accepts it."""
    path = K8S / "prometheus" / "ipmi-sharded.yml"
    doc = yaml.safe_load(path.read_text())
    idx = index(objects("base"))
    sts = idx[("StatefulSet", "osh-ipmi-exporter")]
    svc = idx[("Service", "osh-ipmi-exporter")]
    job = [j for j in doc["scrape_configs"] if j["job_name"] == "ipmi"][0]
    modulus, repl = shard_rules(job["relabel_configs"], False)
    check_shards(modulus, repl, sts, svc, "openserverhub")
    r = subprocess.run(["promtool", "check", "config", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_admin_pod():
    """deploy/k8s/admin: the osh-admin pod is locked down like the
    services, Ready only when check-config passes, given only keys of
    osh-secrets and settings osh-admin reads, pointed at Services of the
    base on their ports, and admitted by the API services' policy."""
    objs = kustomize(K8S / "admin")
    assert [o["kind"] for o in objs] == ["Pod"]
    pod = objs[0]
    spec = pod["spec"]
    base = index(objects("base"))
    assert spec.get("automountServiceAccountToken") is False
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
    [c] = spec["containers"]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert "ALL" in sc["capabilities"]["drop"]
    assert c["resources"]["requests"]["cpu"] and \
        c["resources"]["limits"]["memory"]
    assert c["readinessProbe"]["exec"]["command"] == ["osh-admin",
                                                      "check-config"]
    tname, tkeys = secret_keys_of_template()
    vols = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
    assert mounts["/run/secrets"]["secret"]["secretName"] == tname
    assert "emptyDir" in mounts["/tmp"]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert set(env) <= known_vars("osh-admin")
    for v in env.values():
        for key in re.findall(r"/run/secrets/([\w.-]+)", v):
            assert key in tkeys, key
    ports = {base[("Service", h)]["metadata"]["name"]:
             [p["port"] for p in base[("Service", h)]["spec"]["ports"]]
             for h in ("osh-auth", "osh-server-mgmt", "postgres", "redis")}
    for url in (env["OSH_AUTH_URL"], env["OSH_SERVER_MGMT_URL"]):
        host, port = re.fullmatch(r"http://([a-z-]+):(\d+)", url).groups()
        assert int(port) in ports[host], url
    m = re.fullmatch(r"host=(\S+) port=(\d+) dbname=osh user=osh",
                     env["OSH_ADMIN_DB_CONNINFO"])
    assert m and int(m[2]) in ports[m[1]]
    assert int(env["OSH_REDIS_PORT"]) in ports[env["OSH_REDIS_HOST"]]
    api = base[("NetworkPolicy", "osh-api")]
    sel = api["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert sel.items() <= pod["metadata"]["labels"].items()


def test_compose_admin_is_the_k8s_admin():
    """The compose admin service and the k8s pod set the same settings."""
    svc = compose()["services"]["admin"]
    assert svc["entrypoint"] == ["osh-admin"]
    assert svc["image"].split(":")[0] == "openserverhub/osh"
    pod = kustomize(K8S / "admin")[0]
    env = {e["name"] for e in pod["spec"]["containers"][0]["env"]}
    assert set(svc["environment"]) == env


def check_config_with(binary, extra):
    """binary --check-config with extra settings (and every required one
    set to a readable file): its stderr, or None when it passes."""
    env = {"PATH": "/usr/bin:/bin", **extra}
    for _ in range(20):
        r = subprocess.run([str(BUILD / binary), "--check-config"], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return None
        m = re.search(r"configuration error: (OSH_[A-Z0-9_]+):", r.stderr)
        if not m or m.group(1) in extra:
            return r.stderr
        env[m.group(1)] = "/etc/hostname"
    return "never passed"


@pytest.mark.parametrize("name", ALL_SETS)
def test_trusted_proxies_parse(name):
    """Every OSH_TRUSTED_PROXIES a service is given is a list its binary
    accepts, every OSH_GATEWAY_TRUSTED_PROXIES one the gateway renders."""
    objs = objects(name)
    idx = index(objs)
    for o in objs:
        if o["kind"] not in WORKLOADS:
            continue
        for c in pod_spec(o)["containers"]:
            env = {}
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef:
                    env.update(idx[("ConfigMap",
                                    ef["configMapRef"]["name"])]["data"])
            env.update({e["name"]: e["value"] for e in c.get("env", [])
                        if "value" in e})
            binary = osh_binary(c.get("command", []) + c.get("args", []))
            if "OSH_TRUSTED_PROXIES" in env and binary:
                err = check_config_with(binary, {
                    "OSH_TRUSTED_PROXIES": env["OSH_TRUSTED_PROXIES"]})
                assert err is None, f"{c['name']}: {err}"
            if "OSH_GATEWAY_TRUSTED_PROXIES" in env:
                r = subprocess.run(
                    ["sh", str(TOP / "deploy/nginx/trusted-proxies.sh"),
                     env["OSH_GATEWAY_TRUSTED_PROXIES"]],
                    capture_output=True, text=True)
                assert r.returncode == 0, r.stderr
    gw = idx[("Deployment", "osh-gateway")]
    names = [e["name"] for e in pod_spec(gw)["containers"][0]["env"]]
    assert "OSH_GATEWAY_TRUSTED_PROXIES" in names


def test_secret_template_matches_make_secrets():
    r = subprocess.run(["sh", str(K8S / "make-secrets.sh"), "test"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    made = set(yaml.safe_load(r.stdout)["data"])
    assert made == secret_keys_of_template()[1]


# ------------------------------------------------------------------ Compose

def test_compose_only_gateway_publishes():
    for name, s in compose()["services"].items():
        if name != "gateway":
            assert not s.get("ports"), f"{name} publishes a port"
    assert compose()["services"]["gateway"]["ports"]


def test_compose_secrets_are_files_of_compose_secrets_sh():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["sh", str(TOP / "deploy/docker/compose-secrets.sh"),
                        f"{tmp}/s"], check=True, capture_output=True)
        made = set(os.listdir(f"{tmp}/s"))
        assert oct(os.stat(f"{tmp}/s").st_mode & 0o777) == "0o700"
    declared = compose()["secrets"]
    for name, s in declared.items():
        path = Path(s["file"])
        assert path.parent == TOP / "secrets", f"{name}: {path}"
        assert path.name in made, f"{name}: compose-secrets.sh makes no {path.name}"
    assert made <= set(declared), f"unused secrets: {made - set(declared)}"


def volumes(s):
    """(kind, source, target) of each of a service's volumes, in either
    of Compose's spellings."""
    out = []
    for v in s.get("volumes", []):
        if isinstance(v, str):
            src, dst = v.split(":")[:2]
            out.append(("bind" if src.startswith(("/", ".")) else "volume",
                        src, dst))
        else:
            out.append((v.get("type"), v.get("source"), v["target"]))
    return out


def service_texts(s):
    """Every string a container is given, and the files mounted into it."""
    parts = []
    for key in ("command", "entrypoint"):
        v = s.get(key) or []
        parts += [v] if isinstance(v, str) else v
    parts += [str(v) for v in (s.get("environment") or {}).values()]
    parts += [str(x) for x in (s.get("healthcheck") or {}).get("test", [])]
    for kind, src, _ in volumes(s):
        if kind == "bind" and Path(src).is_file():
            parts.append(Path(src).read_text())
    return "\n".join(parts)


def test_compose_secrets_given_where_named():
    for name, s in compose()["services"].items():
        mine = {x["source"] for x in s.get("secrets", [])}
        for ref in re.findall(r"/run/secrets/([\w.-]+)", service_texts(s)):
            assert ref in mine, f"{name} names /run/secrets/{ref}, not its secret"
        env = s.get("environment") or {}
        for k, v in env.items():
            assert not re.search(r"(?i)password|secret|key", k) or \
                str(v).startswith("/run/secrets") or k.endswith("_USER"), (
                f"{name}: {k} looks like a secret in the environment")


def test_compose_osh_variables_are_read():
    for name, s in compose()["services"].items():
        binary = osh_binary((s.get("entrypoint") or []) +
                            (s.get("command") or []))
        env = s.get("environment") or {}
        if s["image"].split(":")[0] == "openserverhub/osh" and name != "welcome":
            assert binary, f"{name}: runs no osh binary of this build"
        if not binary:
            continue
        unknown = {k for k in env if k.startswith("OSH_")} - known_vars(binary)
        assert not unknown, f"{name}: {binary} reads no {sorted(unknown)}"


def test_compose_dependencies_have_health_checks():
    svcs = compose()["services"]
    for name, s in svcs.items():
        for dep, cond in (s.get("depends_on") or {}).items():
            assert dep in svcs, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                hc = svcs[dep].get("healthcheck")
                assert hc and not hc.get("disable"), f"{dep} has no health check"
            if cond["condition"] == "service_completed_successfully":
                assert svcs[dep].get("restart") == "no", dep


def test_compose_files_exist():
    for name, s in compose()["services"].items():
        b = s.get("build")
        if b:
            cf = Path(b["context"]) / b["dockerfile"]
            assert cf.is_file(), f"{name}: no {cf}"
            for src in re.findall(r"^COPY (?!--from)(.+) \S+$", cf.read_text(), re.M):
                for part in src.split():
                    if part != ".":
                        assert list(Path(b["context"]).glob(part)), f"{cf}: {part}"
        for kind, src, _ in volumes(s):
            if kind != "bind":
                continue
            src = Path(src)
            # deploy/grafana/ is another change's; Compose makes an empty
            # directory until it lands.
            if not src.exists() and src.is_relative_to(TOP / "deploy/grafana") \
                    and not (TOP / "deploy/grafana").exists():
                continue
            assert src.exists(), f"{name}: {src} does not exist"


def test_rendered_configs_are_current():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["sh", str(TOP / "deploy/docker/render-configs.sh"),
                        tmp], check=True)
        for f in ("prometheus.yml", "alertmanager.yml"):
            fresh = Path(tmp, f).read_text()
            assert (TOP / "deploy/docker" / f).read_text() == fresh, (
                f"deploy/docker/{f} is stale: run deploy/docker/render-configs.sh")
    r = subprocess.run(["promtool", "check", "config",
                        str(TOP / "deploy/docker/prometheus.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["amtool", "check-config",
                        str(TOP / "deploy/docker/alertmanager.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

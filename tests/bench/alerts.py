#!/usr/bin/env python3
"""Benchmark: alert ingestion and listing (see alerts.sh)."""
import benchwrk
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("OSH_RUN_DIR", TOP / "run"))
OFF = int(os.environ.get("OSH_PORT_OFFSET", "0"))
GW = ("127.0.0.1", 8080 + OFF)
SVC = ("127.0.0.1", 8105 + OFF)
PG_PORT = 15432 + OFF
BATCHES = int(os.environ.get("ALERT_BATCHES", "400"))
BATCH = 100
SENDERS = int(os.environ.get("ALERT_SENDERS", "4"))
STORED = int(os.environ.get("ALERT_STORED", "100000"))
CONNS = int(os.environ.get("CONNS", "4"))
SECS = int(os.environ.get("SECS", "8"))
THREADS = int(os.environ.get("THREADS", "2"))
RATE_TARGET = 5000.0
P99_TARGET = 20.0


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def superuser_sql(*sql):
    cmd = ["psql", "-q", "-At", "-h", "/tmp", "-p", str(PG_PORT), "-U",
           "postgres", "-d", "osh", "-v", "ON_ERROR_STOP=1"]
    for s in sql:
        cmd += ["-c", s]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def batches():
    """BATCHES bodies of 100 alerts: 75 new, 25 repeats of earlier ones."""
    tag = secrets.token_hex(3)
    t0 = datetime.now(timezone.utc) - timedelta(hours=1)
    seen, out, n = [], [], 0
    for b in range(BATCHES):
        alerts = []
        for _ in range(BATCH * 3 // 4):
            fp = f"{tag}{n:010x}"
            a = {"status": "firing",
                 "labels": {"alertname": f"Bench{n % 7}",
                            "severity": ("critical", "warning", "info")[n % 3],
                            "server_name": f"node-{n % 5000}",
                            "instance": f"10.0.{n % 250}.{n % 200}:623",
                            "name": "CPU1 Temp"},
                 "annotations": {"summary": "A BMC sensor is critical",
                                 "description": f"CPU1 Temp on node-{n % 5000}"
                                                " is above its threshold"},
                 "startsAt": ts(t0 + timedelta(milliseconds=n)),
                 "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://prometheus:9090/graph",
                 "fingerprint": fp}
            alerts.append(a)
            seen.append(a)
            n += 1
        pool = seen[:-len(alerts)] or seen
        for i in range(BATCH - len(alerts)):
            alerts.append(pool[(b * 31 + i * 97) % len(pool)])
        out.append(json.dumps({
            "version": "4", "groupKey": "{}:{}", "status": "firing",
            "receiver": "osh", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am",
            "truncatedAlerts": 0, "alerts": alerts}).encode())
    return out, n


def ingest(bodies, secret):
    lat, bad, lock = [], [0], threading.Lock()
    todo = list(enumerate(bodies))

    def sender():
        c = http.client.HTTPConnection(*SVC, timeout=60)
        h = {"Content-Type": "application/json",
             "Authorization": f"Bearer {secret}"}
        while True:
            with lock:
                if not todo:
                    break
                _, body = todo.pop(0)
            t = time.perf_counter()
            c.request("POST", "/internal/alertmanager/webhook", body=body,
                      headers=h)
            r = c.getresponse()
            r.read()
            d = time.perf_counter() - t
            with lock:
                lat.append(d)
                if r.status != 200:
                    bad[0] += 1
        c.close()
    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t, sorted(lat), bad[0]


def wrk(url, token):
    return benchwrk.wrk(f"http://{GW[0]}:{GW[1]}", url, token, THREADS,
                        CONNS, SECS)[:4]


def api(path, token=None, body=None):
    c = http.client.HTTPConnection(*GW, timeout=60)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    c.request("POST" if body else "GET", path,
              body=json.dumps(body) if body else None, headers=h)
    r = c.getresponse()
    data = json.loads(r.read())
    c.close()
    return data


def fill(total):
    """Stored alerts up to total, straight into the table: a third firing,
    the rest resolved or silenced, over 30 days, 2,000 servers."""
    have = int(superuser_sql("SELECT count(*) FROM alert_webhook.alerts"))
    more = total - have
    if more > 0:
        superuser_sql(
            "INSERT INTO alert_webhook.alerts (fingerprint, starts_at, "
            "ends_at, state, first_state, first_source, alertname, "
            "severity, server_id, server_name, summary, labels, "
            "annotations, notifications, search) SELECT "
            "'f' || lpad(to_hex(i), 15, '0'), now() - (i || ' s')::interval "
            "* 25, CASE WHEN i % 3 = 1 THEN now() - (i || ' s')::interval "
            "* 24 END, CASE i % 3 WHEN 0 THEN 'firing' WHEN 1 THEN "
            "'resolved' ELSE 'silenced' END, 'firing', 'webhook', "
            "'Fill' || i % 9, (ARRAY['critical','warning','info'])[i % 3 "
            "+ 1], i % 2000 + 1, 'node-' || i % 2000, 'filled', "
            "jsonb_build_object('alertname', 'Fill' || i % 9, 'server_id', "
            "(i % 2000 + 1)::text), '{\"summary\": \"filled\"}', 1, "
            f"'fill' FROM generate_series(1, {more}) i")
    # What autovacuum does in life: statistics and the visibility map.
    superuser_sql("VACUUM ANALYZE alert_webhook.alerts")
    return int(superuser_sql("SELECT count(*) FROM alert_webhook.alerts"))


def main():
    secret = (RUN / "secrets" / "alert-webhook-secret").read_text().strip()
    pw = (RUN / "admin-password").read_text().strip()
    token = api("/api/auth/login", body={"username": "admin",
                                          "password": pw})["access_token"]
    before = int(superuser_sql("SELECT count(*) FROM alert_webhook.alerts"))
    bodies, distinct = batches()
    secs, lat, bad = ingest(bodies, secret)
    rows = int(superuser_sql("SELECT count(*) FROM alert_webhook.alerts"))
    sent = BATCHES * BATCH
    rate = sent / secs
    p50 = lat[len(lat) // 2] * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    print(f"ingestion: {BATCHES} POSTs of {BATCH} alerts (a quarter "
          f"repeats), {SENDERS} senders")
    print(f"  {sent} alerts in {secs:.2f} s: {rate:.0f} alerts/s stored "
          f"and deduplicated (target >= {RATE_TARGET:.0f}: ratio "
          f"{rate / RATE_TARGET:.2f})")
    print(f"  per POST: p50 {p50:.1f} ms, p99 {p99:.1f} ms; non-2xx {bad}")
    print(f"  rows added {rows - before}, distinct alerts sent {distinct}"
          f" ({'deduplicated' if rows - before == distinct else 'MISMATCH'})")

    total = fill(STORED)
    firing = superuser_sql("SELECT count(*) FROM alert_webhook.alerts "
                           "WHERE state = 'firing'")
    page = api("/api/monitoring/alerts?state=firing&limit=50", token)
    for _ in range(20):
        page = api("/api/monitoring/alerts?state=firing&limit=50&cursor="
                   + page["next_cursor"], token)
    deep = page["next_cursor"]
    urls = [("jwks (proxy ceiling)", "/api/auth/jwks"),
            ("firing, first page", "/api/monitoring/alerts?state=firing"),
            ("firing, page 22 by cursor",
             f"/api/monitoring/alerts?state=firing&cursor={deep}"),
            ("all, newest page", "/api/monitoring/alerts"),
            ("one server", "/api/monitoring/alerts?server_id=77")]
    for _, u in urls:
        benchwrk.wrk(f"http://{GW[0]}:{GW[1]}", u, token, 1, 4, 1)
    print(f"\nlisting with {total} alerts stored ({firing} firing), 50 a "
          f"page, wrk -t{THREADS} -c{CONNS} -d{SECS}s through nginx")
    print(f"  {'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} non-2xx")
    for name, u in urls:
        rps, p50, p99, nb = wrk(u, token)
        mark = "" if name.startswith("jwks") else \
            f"  p99 ratio to 20 ms: {p99 / P99_TARGET:.2f}"
        print(f"  {name:28} {rps:8.0f} {p50:8.2f} {p99:8.2f} {nb:7d}{mark}")
    plan = superuser_sql(
        "SET search_path = alert_webhook",
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT a FROM "
        "alerts a WHERE a.state = 'firing' ORDER BY a.starts_at DESC, "
        "a.id DESC LIMIT 51")
    print("\nplan of the firing page:\n  " + plan.replace("\n", "\n  "))
    return 0


if __name__ == "__main__":
    sys.exit(main())

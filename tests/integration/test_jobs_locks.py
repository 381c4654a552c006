"""Jobs (osh-cluster-mgmt): the scheduler's functions against concurrent
transactions, in a scratch schema of the stack's PostgreSQL that holds
cluster-mgmt's migrations and nothing else (no scheduler ticks there but
this file's own).

A tick decides on a job's failure budget, then picks its tasks; a result
stored between the two must not make the picks see a slot the budget
check did not see as a failure (migration 004). The test holds the tick
between the two statements with a row lock of a third transaction, stores
a failed result meanwhile, and checks that no task goes out past the
budget. Deterministic: it waits for the lock waits it arranges."""
import json
import os
import subprocess

import pytest

from conftest import PG_PORT, RUN, TOP, psql, wait_for

SCHEMA = "jobs_locks_test"
MIGRATIONS = sorted((TOP / "services" / "cluster-mgmt" /
                     "migrations").glob("*.sql"))

RULES = [("job", "queued", "start", "running"),
         ("job", "running", "finish", "succeeded"),
         ("job", "running", "finish_failed", "failed"),
         ("job", "running", "budget", "failed"),
         ("task", "pending", "dispatch", "dispatched"),
         ("task", "pending", "skip", "skipped"),
         ("task", "pending", "cancel", "cancelled"),
         ("task", "dispatched", "done", "succeeded"),
         ("task", "dispatched", "fail", "failed"),
         ("task", "dispatched", "transient", "retry_wait"),
         ("task", "retry_wait", "skip", "skipped")]


def session(sql, app):
    """A psql of its own (application_name app) running sql in the
    background, or what its stdin gets when sql is None."""
    env = dict(os.environ, PGAPPNAME=app, PGOPTIONS=f"-c search_path={SCHEMA}",
               PGPASSWORD=(RUN / "secrets" / "db-password").read_text()
               .strip())
    return subprocess.Popen(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
         "127.0.0.1", "-p", str(PG_PORT), "-U", "osh", "-d", "osh"] +
        (["-c", sql] if sql is not None else []),
        stdin=subprocess.PIPE if sql is None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def q(sql):
    p = session(sql, "jobs-locks")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    return out.strip()


def waiting(app):
    return psql("SELECT count(*) FROM pg_stat_activity WHERE "
                f"application_name = '{app}' AND wait_event_type = 'Lock'") \
        == "1"


def spec(ids, on_conflict, max_failures):
    return json.dumps({
        "kind": "diag", "action": "diag", "target_state": None,
        "targets": {"server_ids": ids}, "concurrency": 1, "canary": 0,
        "timeout_s": 60, "retries": 0, "backoff_ms": 1000, "verify": False,
        "verify_timeout_s": 30, "on_conflict": on_conflict, "stagger": None,
        "max_failures": max_failures, "max_failures_percent": None})


def job(ids, on_conflict="wait", max_failures=None):
    return int(q(f"SELECT job_create('{spec(ids, on_conflict, max_failures)}'"
                 ", 'op', NULL, NULL, NULL)->'job'->>'id'"))


def states(jid):
    return q(f"SELECT string_agg(state, ' ' ORDER BY seq) FROM tasks "
             f"WHERE job_id = {jid}").split()


@pytest.fixture(scope="module")
def scratch():
    psql(f"SET client_min_messages = warning; "
         f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    for m in MIGRATIONS:
        q(m.read_text())
    rules = json.dumps([{"kind": k, "from": f, "event": e, "to": t}
                        for k, f, e, t in RULES])
    q(f"SELECT load_transitions('{rules}')")
    q("INSERT INTO servers (id, name, has_credentials, status) "
      "SELECT i, 's' || i, true, 'online' FROM generate_series(1, 5) i")
    yield
    psql(f"SET client_min_messages = warning; "
         f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def test_result_during_tick_keeps_budget(scratch):
    # A budget of no failure, one task at a time.
    budget = job([1, 2, 3, 4], max_failures=0)
    holder = job([5])
    q("SELECT sched_tick(100, 5000)")
    assert states(budget) == ["dispatched", "pending", "pending", "pending"]
    # A job that skips leased servers: its task on server 5 is skipped by
    # the tick's statement after the budget check and before the picks.
    skipper = job([5], on_conflict="skip")
    first = q(f"SELECT id FROM tasks WHERE job_id = {budget} AND seq = 1")
    # Holding that task's row holds the tick there.
    hold = session(None, "jobs-hold")
    hold.stdin.write(f"BEGIN; SELECT 1 FROM tasks WHERE job_id = {skipper} "
                     "FOR UPDATE;\n")
    hold.stdin.flush()
    wait_for(lambda: q("SELECT count(*) FROM pg_locks l JOIN "
                       "pg_stat_activity a USING (pid) WHERE "
                       "a.application_name = 'jobs-hold' AND "
                       "l.locktype = 'transactionid'") != "0",
             what="the holding transaction")
    tick = session("SELECT sched_tick(100, 5000)", "jobs-tick")
    wait_for(lambda: waiting("jobs-tick"), what="the tick held")
    # The first task's failure comes in meanwhile.
    res = json.dumps([{"request_id": f"{budget}.{first}.1",
                       "job_id": str(budget), "task_id": first,
                       "attempt": "1", "result": "error", "error": "auth",
                       "message": "denied"}])
    store = session(f"SELECT tasks_results('{res}')", "jobs-store")
    # Stored (before 004), or waiting for the tick's job (since).
    wait_for(lambda: store.poll() is not None or waiting("jobs-store"),
             what="the result stored or waiting")
    hold.communicate("COMMIT;\n", timeout=30)
    assert hold.returncode == 0
    out, err = tick.communicate(timeout=30)
    assert tick.returncode == 0, err
    assert store.wait(timeout=30) == 0, store.stderr.read()
    # Nothing went out: the result waited for the tick, or the tick saw
    # it in both statements.
    assert json.loads(out)["requests"] == [], out
    assert states(budget) == ["failed", "pending", "pending", "pending"]
    q("SELECT sched_tick(100, 5000)")
    assert states(budget) == ["failed", "skipped", "skipped", "skipped"]
    assert q(f"SELECT state || ' ' || reason FROM jobs WHERE id = {budget}") \
        == "failed max_failures exceeded"
    assert states(holder) == ["dispatched"]

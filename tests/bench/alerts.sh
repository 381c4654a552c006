#!/bin/sh
# osh-alert-webhook: webhook ingestion (batches of 100 alerts, a quarter
# of them repeats of alerts already stored, POSTed by 4 senders at once
# to the service's port as Alertmanager does): stored alerts/s and p99
# per POST, against the target of 5,000 alerts/s; then, with 100,000
# alerts stored, wrk through nginx (4 connections: a few dashboards;
# CONNS= to change) on the alert list (firing alerts,
# first page and a page by cursor; newest of all; one server's):
# requests/s, p50, p99 against the target p99 < 20 ms, and the plan
# PostgreSQL chose for the firing list. Needs a running stack
# (tests/bench/run.sh starts one). Prints figures; asserts nothing about
# timings.
exec /usr/bin/python3 "$(dirname "$0")/alerts.py" "$@"

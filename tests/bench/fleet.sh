#!/bin/sh
# Fleet scale: a stack of its own (offset FLEET_PORT_OFFSET, 21000 by
# default) with 10,000 servers imported through POST /api/servers/import
# (two files of 5,000: JSON and CSV, monitoring=false, credentials sealed
# per row), then wrk through nginx at 64 connections on the servers list
# (first page, a deep page by cursor, a filtered page), the stats, a
# single server and GET /api/auth/jwks (the proxying ceiling) in one run:
# requests/s, p50, p99, non-2xx, body size and each ratio to jwks (median
# of ROUNDS=3 rounds), asked as browsers and HTTP libraries ask
# (Accept-Encoding: gzip) and as wrk does (no encoding). Then 90,000 more
# rows and the plans PostgreSQL really chose for every list query the
# service ran (auto_explain): no sequential scan of servers. Prints
# figures; asserts nothing about timings.
exec /usr/bin/python3 "$(dirname "$0")/fleet.py" "$@"

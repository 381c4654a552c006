#!/bin/sh
# osh-ipmi-exporter against the reference prometheus-ipmi-exporter on the
# same simulated BMCs (50 by default, full sensor boards): per-scrape wall
# time (p50/p99), CPU seconds per scrape including child processes, peak
# RSS, the ratios; then a sustained 30 s-interval run over a large fleet
# (500 by default) and the exporter's CPU share. Starts what it needs.
exec /usr/bin/python3 "$(dirname "$0")/exporter.py" "$@"

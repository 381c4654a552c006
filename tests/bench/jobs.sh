#!/bin/sh
# Power jobs at fleet scale (issue 9): a stack of its own (offset
# JOBS_PORT_OFFSET, 22000 by default) and 500 simulated BMCs (50 ipmi_sim
# processes of 10 LAN channels, a rack per 5 processes). `status`, `off`
# and `on` as jobs through nginx at concurrency 64, from the POST to the
# last task achieved, beside one ipmipower over the same BMCs with
# --fanout 64 (credentials from a config file), in the same run: wall
# time, CPU per task (ipmipower's own; server-mgmt + cluster-mgmt, and
# with nginx, PostgreSQL and Redis) and their ratios against the targets
# (wall <= 1.5x, CPU <= 2x). Then a staggered `on` (50/s overall, 5/s per
# rack) checked against the simulator's command timestamps: the worst
# 1 s window overall and per rack, and the rate achieved (target: within
# 10%). Prints figures; asserts nothing about timings.
# JOBS_BMCS, JOBS_ROUNDS (3), JOBS_CONCURRENCY, JOBS_STAGGER and
# JOBS_STAGGER_RACK change the run.
exec /usr/bin/python3 "$(dirname "$0")/jobs.py" "$@"

#!/bin/sh
# Fleet power status and sensor reads: 100 simulated BMCs through the API
# against FreeIPMI's command-line tools (one ipmipower per server, and
# ipmipower's own fan-out; ipmi-sensors per server). Prints wall time, CPU
# seconds and ratios. Needs a running stack (tests/bench/run.sh).
exec python3 "$(dirname "$0")/power.py" "$@"

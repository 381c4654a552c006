#!/bin/sh
# The simulator container: starts OSH_SIM_COUNT BMCs from OSH_SIM_PORT on,
# listening on every address, marks itself up (the health check looks for
# $dir/.up) and stops them on SIGTERM.
set -eu
dir=${OSH_SIM_DIR:-/var/lib/osh-sim}
sim=/opt/osh-sim/osh-sim
python3 "$sim" up "$dir" --count "${OSH_SIM_COUNT:-3}" \
    --port "${OSH_SIM_PORT:-9001}" --host 0.0.0.0
touch "$dir/.up"
trap 'rm -f "$dir/.up"; python3 "$sim" down "$dir"; exit 0' TERM INT
while :; do
	sleep 3600 &
	wait $! || true
done

#!/bin/sh
# Starts a stack on bench ports (offset 20000), runs every benchmark named
# on the command line (default: all *.sh here but this one), stops it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export BUILD=${BUILD:-build}
export OSH_RUN_DIR="$top/$BUILD/bench-run"
export OSH_PORT_OFFSET=20000
export OSH_LOG_LEVEL=warn
# The benchmark logs in once; the gateway's login limit stays as shipped.
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1' EXIT INT TERM
bash deploy/local/stack.sh up >/dev/null || exit 1
benches=${*:-$(ls tests/bench/*.sh | grep -v '/run.sh$')}
rc=0
for b in $benches; do
	echo "== $b"
	sh "$b" || rc=1
done
exit $rc

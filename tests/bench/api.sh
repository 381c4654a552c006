#!/bin/sh
# API latency and throughput through the gateway: an authenticated
# GET /api/auth/profile (JWT check, revocation lookup in Redis, one
# PostgreSQL query) against an nginx location answering a fixed 200, in
# one run, same machine, same wrk settings. Prints requests/s, p50, p99
# and the ratio. Needs a running stack (tests/bench/run.sh starts one).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
RUN=${OSH_RUN_DIR:-$top/run}
OFF=${OSH_PORT_OFFSET:-0}
GW=http://127.0.0.1:$((8080 + OFF))
CONNS=${CONNS:-64}
SECS=${SECS:-10}
THREADS=${THREADS:-2}

pw=$(cat "$RUN/admin-password")
# The password goes to curl on stdin, never on its command line.
token=$(printf '{"username":"admin","password":"%s"}' "$pw" |
    curl -fsS -X POST "$GW/api/auth/login" -H 'Content-Type: application/json' \
    --data-binary @- |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Prints "rps p50_ms p99_ms" from wrk --latency output.
measure() {
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$@" 2>&1)
	echo "$out" | awk '
	function ms(v) {
		if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
		if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
		if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
		return v
	}
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx/ { bad = $NF }
	END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, bad }'
}

# Warm both paths (connections, token cache, PostgreSQL plans).
# The token reaches wrk by its environment, not its command line.
OSH_BENCH_TOKEN=$token
export OSH_BENCH_TOKEN
wrk -t1 -c8 -d1s -s "$top/tests/bench/benchwrk.lua" "$GW/api/auth/profile" >/dev/null
wrk -t1 -c8 -d1s "$GW/_bench/static" >/dev/null

set -- $(measure "$GW/_bench/static")
s_rps=$1 s_p50=$2 s_p99=$3
# The same path through nginx to a service answering from memory: the
# ceiling any proxied endpoint can reach on this machine.
set -- $(measure "$GW/api/auth/jwks")
j_rps=$1 j_p50=$2 j_p99=$3
set -- $(measure -s "$top/tests/bench/benchwrk.lua" "$GW/api/auth/profile")
a_rps=$1 a_p50=$2 a_p99=$3 a_bad=$4

printf '%-34s %10s %9s %9s\n' "endpoint ($CONNS connections)" "req/s" "p50 ms" "p99 ms"
printf '%-34s %10s %9s %9s\n' "nginx fixed 200 (/_bench/static)" "$s_rps" "$s_p50" "$s_p99"
printf '%-34s %10s %9s %9s\n' "proxied, no database (jwks)" "$j_rps" "$j_p50" "$j_p99"
printf '%-34s %10s %9s %9s\n' "GET /api/auth/profile" "$a_rps" "$a_p50" "$a_p99"
awk -v a="$a_rps" -v s="$s_rps" -v j="$j_rps" -v p="$a_p99" 'BEGIN {
	printf "ratio profile/static: %.2f (target >= 0.50); profile p99 %.2f ms (target < 5 ms)\n", a / s, p
	printf "proxy ceiling jwks/static: %.2f; profile/jwks: %.2f\n", j / s, a / j }'
if [ "${a_bad:-0}" != 0 ]; then
	echo "warning: $a_bad non-2xx answers on the profile endpoint"
fi

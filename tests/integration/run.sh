#!/bin/sh
# Runs the integration tests against a fresh stack on test ports (offset
# 10000), torn down afterwards even when tests fail. Under SAN=1 any
# sanitizer report in a service log fails the run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export BUILD=${BUILD:-build}
export OSH_PORT_OFFSET=${OSH_PORT_OFFSET:-10000}
# A stack on other ports lives in a directory of its own, so that two runs
# in one checkout do not tear down each other's.
if [ "$OSH_PORT_OFFSET" = 10000 ]; then
	export OSH_RUN_DIR="$top/$BUILD/test-run"
else
	export OSH_RUN_DIR="$top/$BUILD/test-run-$OSH_PORT_OFFSET"
fi
export OSH_NGINX_LOGIN_RATE=200r/s OSH_NGINX_LOGIN_BURST=400
# 127.0.0.77 plays a TLS-terminating load balancer in front of nginx
# (test_load_balancer.py): its X-Forwarded-For and -Proto are believed.
export OSH_GATEWAY_TRUSTED_PROXIES=127.0.0.77/32
export OSH_LOG_LEVEL=info
# Quick polls and deadlines, so tests see changes soon.
export OSH_POLL_INTERVAL_S=2 OSH_BMC_TIMEOUT_MS=3000
export OSH_PROM_INTERVAL=2s OSH_PROM_TIMEOUT=2s OSH_PROM_SD_REFRESH=2s
# Alerts within a minute: rules evaluated every 2 s (the scrape interval),
# Alertmanager notifying 1 s after an alert arrives, 2 s after a change
# in its group, and again every minute while it lasts.
export OSH_AM_GROUP_WAIT=1s OSH_AM_GROUP_INTERVAL=2s OSH_AM_REPEAT_INTERVAL=1m
# osh-alert-webhook polls Alertmanager (silenced alerts, and their
# resolution) and keeps ack silences every 2 s.
export OSH_ALERT_POLL_INTERVAL_S=2 OSH_ALERT_ACK_CHECK_S=2
# Short idle expiry: tests see sessions closed and reopened.
export OSH_IPMI_IDLE_MS=2000
# Power requests of a killed server-mgmt are taken over after 3 s.
export OSH_POWER_CLAIM_IDLE_MS=3000
# Discovery: the simulated BMCs sit on 127.0.0.1 (other loopback addresses
# stay refused), and a low cap that tests can reach.
export OSH_SCAN_ALLOW=127.0.0.1/32 OSH_SCAN_MAX_RUNNING=2
# A probe waits 3 s: a loaded machine (SAN=1, other stacks) can take more
# than the shipped 1 s to schedule ipmi_sim's answer.
export OSH_SCAN_TIMEOUT_MS=3000
if [ "${SAN:-0}" = 1 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$OSH_RUN_DIR/logs/asan
	export UBSAN_OPTIONS=print_stacktrace=1:log_path=$OSH_RUN_DIR/logs/ubsan
fi

teardown() {
	bash deploy/local/stack.sh down >/dev/null 2>&1
	python3 deploy/sim/osh-sim down "$OSH_RUN_DIR/fleet" >/dev/null 2>&1
	# Simulated BMCs a test started and could not stop (a fixture that
	# failed half way): none outlives the run.
	pkill -f -- "ipmi_sim -c $OSH_RUN_DIR/" 2>/dev/null
	return 0
}
trap teardown EXIT INT TERM

bash deploy/local/stack.sh down >/dev/null 2>&1
# The data dir may live elsewhere (stack.sh's mktemp fallback): first.
[ -L "$OSH_RUN_DIR/pg" ] && rm -rf "$(readlink -f "$OSH_RUN_DIR/pg")"
rm -rf "$OSH_RUN_DIR"
mkdir -p "$OSH_RUN_DIR/logs"
# Its output shows the first admin's password: 0600, like the secrets.
: >"$OSH_RUN_DIR/stack-up.log"
chmod 600 "$OSH_RUN_DIR/stack-up.log"
if ! bash deploy/local/stack.sh up >>"$OSH_RUN_DIR/stack-up.log" 2>&1; then
	cat "$OSH_RUN_DIR/stack-up.log"
	for f in "$OSH_RUN_DIR"/logs/*.log; do
		echo "== $f"; tail -n 30 "$f"
	done
	exit 1
fi

/usr/bin/python3 -m pytest -p no:cacheprovider -q -ra --durations=15 ${TESTS:-tests/integration} "$@"
rc=$?

teardown
trap - EXIT
# Services write their reports when they exit: after the teardown.
reports=$(find "$OSH_RUN_DIR/logs" -name 'asan*' -o -name 'ubsan*')
if [ -n "$reports" ] ||
    grep -l -E 'runtime error:|AddressSanitizer|LeakSanitizer' \
    "$OSH_RUN_DIR"/logs/*.log >/dev/null 2>&1; then
	echo "sanitizer reports found:"
	cat "$OSH_RUN_DIR"/logs/asan* "$OSH_RUN_DIR"/logs/ubsan* 2>/dev/null | head -80
	grep -h -A20 -E 'runtime error:|AddressSanitizer|LeakSanitizer' \
	    "$OSH_RUN_DIR"/logs/*.log | head -80
	rc=1
fi
exit $rc

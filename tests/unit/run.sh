#!/bin/sh
# Runs every unit test binary given, UNIT_JOBS at a time (default: the
# number of processors; the live tests mostly wait on simulators and
# timers); prints a failed binary's whole output and one summary line at
# the end. The binaries given first start first: list the slow ones early.
set -u
jobs=${UNIT_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

# Each binary writes its output to $out/<n>.log and its exit status to
# $out/<n>.rc; xargs keeps $jobs of them running.
n=0
for t in "$@"; do
	n=$((n + 1))
	printf '%s %s\n' "$n" "$t"
done | xargs -P "$jobs" -L 1 sh -c '"$2" >"$0/$1.log" 2>&1; echo $? >"$0/$1.rc"' "$out"

passed=0
failed=0
n=0
for t in "$@"; do
	n=$((n + 1))
	if [ "$(cat "$out/$n.rc")" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		cat "$out/$n.log"
		echo "FAILED: $t"
	fi
done
echo "unit test binaries: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Runs libFuzzer targets built by the Makefile (build/fuzz/fuzz_<name>).
#
#   run.sh fuzz <name>...    each for FUZZ_SECONDS over its seed corpus and
#                            its scratch corpus; one line per target, then a
#                            summary; appends to build/fuzz/report.txt
#   run.sh check <name>...   regression: the committed corpus, then a fixed
#                            short run (FUZZ_CHECK_RUNS, FUZZ_CHECK_SECONDS)
#   run.sh report            totals per target of report.txt
#
# Seeds: tests/fuzz/corpus/<name>/ (committed, never written to). New
# inputs: build/fuzz/corpus/<name>/. Dictionary: tests/fuzz/<name>.dict.
# Extra libFuzzer flags of a target: tests/fuzz/<name>.options (one line).
# A crash, leak, timeout or out-of-memory fails the run; its input stays in
# build/fuzz/crashes/<name>/ and its whole log in
# build/fuzz/logs/<fuzz|check>-<name>.log.
# FUZZ_ARGS adds libFuzzer flags (e.g. FUZZ_ARGS=-max_len=65536).
set -u

FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_CHECK_RUNS=${FUZZ_CHECK_RUNS:-20000}
FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-5}
FUZZ_ARGS=${FUZZ_ARGS:-}
SRC=tests/fuzz
REPORT=$FUZZ_DIR/report.txt

# Readable stacks in reports; UBSan findings are fatal (as compiled).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
if ! command -v llvm-symbolizer >/dev/null 2>&1; then
	for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do
		[ -x "$s" ] && export ASAN_SYMBOLIZER_PATH="$s"
	done
fi

# The value of libFuzzer's final "stat::<key>:" line in log $1.
final_stat() {
	sed -n "s/^stat::$2: *\\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

# Coverage ("cov: N") of the first line matching $2 in log $1, or the last
# status line when $2 is empty.
cov() {
	if [ -n "$2" ]; then
		grep -m 1 "$2" "$1"
	else
		grep -E '^#[0-9]+' "$1" | tail -n 1
	fi | sed -n 's/.* cov: \([0-9]*\).*/\1/p'
}

# Runs target $1 with flags: $2 defaults (the target's .options and then
# FUZZ_ARGS override them), $3 the run's bounds (nothing overrides them),
# then the corpus directories. Output to its log; sets rc, secs, execs,
# per_s, units, cov0, cov1 and artifact.
run_one() {
	name=$1
	defaults=$2
	bounds=$3
	shift 3
	bin=$FUZZ_DIR/fuzz_$name
	log=$FUZZ_DIR/logs/$mode-$name.log
	crashes=$FUZZ_DIR/crashes/$name
	mkdir -p "$FUZZ_DIR/logs" "$crashes"
	set -- -print_final_stats=1 -artifact_prefix="$crashes/" "$@"
	if [ -f "$SRC/$name.dict" ]; then
		set -- -dict="$SRC/$name.dict" "$@"
	fi
	opts=
	if [ -f "$SRC/$name.options" ]; then
		opts=$(head -n 1 "$SRC/$name.options")
	fi
	t0=$(date +%s)
	# libFuzzer takes the last of a flag given twice.
	# shellcheck disable=SC2086
	"$bin" $defaults $opts $FUZZ_ARGS $bounds "$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	execs=$(final_stat "$log" number_of_executed_units)
	per_s=$((${execs:-0} / (secs > 0 ? secs : 1)))
	units=$(final_stat "$log" new_units_added)
	cov0=$(cov "$log" INITED)
	cov1=$(cov "$log" "")
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
	    tail -n 1)
	if [ $rc -ne 0 ] && [ -z "$artifact" ]; then
		artifact="(none; see $log)"
	fi
}

# Prints the end of a failed run's log and how to reproduce it.
failed() {
	echo "---- $log (end) ----"
	grep -v -E '^#[0-9]+' "$log" | tail -n 40
	echo "----"
	echo "reproduce: $FUZZ_DIR/fuzz_$name $artifact"
}

# The seed corpus directory of $1, when there is one.
seeds() {
	if [ -d "$SRC/corpus/$1" ]; then
		echo "$SRC/corpus/$1"
	fi
}

fuzz() {
	total=0
	bad=0
	n=0
	for name in "$@"; do
		scratch=$FUZZ_DIR/corpus/$name
		mkdir -p "$scratch"
		# shellcheck disable=SC2046
		run_one "$name" -timeout=25 -max_total_time="$FUZZ_SECONDS" \
		    "$scratch" $(seeds "$name")
		nc=0
		[ $rc -ne 0 ] && nc=1
		printf '%-24s %12s execs %9s exec/s  +%s units  cov %s (+%s)  crashes %s\n' \
		    "$name" "${execs:-0}" "${per_s:-0}" "${units:-0}" \
		    "${cov1:-0}" "$((${cov1:-0} - ${cov0:-0}))" "$nc"
		echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $name $secs" \
		    "${execs:-0} $nc" >>"$REPORT"
		if [ $rc -ne 0 ]; then
			failed
			bad=$((bad + 1))
		fi
		total=$((total + ${execs:-0}))
		n=$((n + 1))
	done
	echo "fuzz: $n targets, ${FUZZ_SECONDS} s each, $total executions," \
	    "$bad crashed"
	[ $bad -eq 0 ]
}

check() {
	bad=0
	n=0
	for name in "$@"; do
		scratch=$FUZZ_DIR/check/$name
		rm -rf "$scratch"
		mkdir -p "$scratch"
		bounds="-seed=1 -runs=$FUZZ_CHECK_RUNS"
		bounds="$bounds -max_total_time=$FUZZ_CHECK_SECONDS"
		# shellcheck disable=SC2046
		run_one "$name" -timeout=10 "$bounds" "$scratch" $(seeds "$name")
		rm -rf "$scratch"
		printf '  %-24s %8s execs  %s\n' "fuzz_$name" "${execs:-0}" \
		    "$([ $rc -eq 0 ] && echo ok || echo FAILED)"
		if [ $rc -ne 0 ]; then
			failed
			bad=$((bad + 1))
		fi
		n=$((n + 1))
	done
	echo "fuzz targets: $((n - bad)) passed, $bad failed"
	[ $bad -eq 0 ]
}

report() {
	if [ ! -s "$REPORT" ]; then
		echo "fuzz-report: nothing recorded yet ($REPORT)"
		return 0
	fi
	printf '%-24s %5s %8s %14s %8s\n' target runs seconds executions \
	    crashes
	awk '{ runs[$2]++; secs[$2] += $3; execs[$2] += $4; crashes[$2] += $5 }
	END {
		for (t in runs)
			printf "%-24s %5d %8d %14d %8d\n", t, runs[t], secs[t],
			    execs[t], crashes[t]
	}' "$REPORT" | sort
}

mode=${1:-}
[ $# -gt 0 ] && shift
case $mode in
fuzz | check)
	if [ $# -eq 0 ]; then
		echo "fuzz: no targets under $SRC"
		exit 0
	fi
	mkdir -p "$FUZZ_DIR"
	"$mode" "$@"
	;;
report) report ;;
*)
	echo "usage: run.sh fuzz|check <name>... | run.sh report" >&2
	exit 2
	;;
esac

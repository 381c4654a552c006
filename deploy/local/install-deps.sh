#!/bin/sh
# Installs the Debian packages OpenServerHub needs to build, run and test.
# Idempotent: packages already present are skipped, and nothing is done at
# all when everything is there. Services the packages would start on their
# own (postgresql, redis, nginx, prometheus, ...) are kept from starting:
# the project runs its own instances under run/.
set -eu

BUILD="make gcc pkg-config libevent-dev libfreeipmi-dev libcurl4-openssl-dev
libjson-c-dev libpq-dev libhiredis-dev libjwt-dev libsodium-dev libyaml-dev
zlib1g-dev libcmocka-dev libssl-dev libcrypt-dev"
RUN="postgresql postgresql-contrib redis-server redis-tools nginx-light prometheus
prometheus-alertmanager openipmi freeipmi-tools ipmitool
prometheus-ipmi-exporter openssl curl procps iproute2"
TEST="wrk python3 python3-pytest python3-requests python3-jwt python3-yaml
python3-jsonschema python3-psycopg2 clang-format cppcheck
docker-compose chromium libopenipmi-dev"
# Fuzz targets: clang, libFuzzer's runtime (libclang_rt.fuzzer) and
# llvm-symbolizer for readable sanitizer reports.
FUZZ="clang libclang-rt-14-dev llvm"

# The web UI (ui/) builds with Node.js and npm: Debian's, unless a node
# is installed already (another way, or a newer one).
UI=""
command -v node >/dev/null 2>&1 || UI="nodejs"
command -v npm >/dev/null 2>&1 || UI="$UI npm"

missing=""
for p in $BUILD $RUN $TEST $FUZZ $UI; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "install-deps: installing$missing"
# Keep package scripts from starting system-wide daemons on shared ports.
policy=/usr/sbin/policy-rc.d
placed=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	placed=yes
fi
cleanup() {
	if [ "$placed" = yes ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# apt's own lines go to a log; they are shown only when it fails.
log=${TMPDIR:-/tmp}/osh-install-deps.$$.log
if ! { $SUDO apt-get update -qq &&
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing; } \
    >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "install-deps: apt-get failed (whole log: $log)" >&2
	exit 1
fi
rm -f "$log"
echo "install-deps: done"

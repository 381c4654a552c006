#!/bin/bash
# Runs the whole OpenServerHub stack as plain processes on loopback:
# PostgreSQL, Redis, nginx, the services, Prometheus and Alertmanager,
# state under $OSH_RUN_DIR.
#
#   stack.sh up      start what is not running, wait until ready
#   stack.sh down    stop everything this run dir started, by pid
#   stack.sh status  what runs
#   stack.sh destroy down, then delete the run dir and all its data
#   stack.sh start SERVICE...  start those services again (after a crash,
#                    say), the rest of the stack being up; wait until ready
#
# Environment: OSH_RUN_DIR (default ./run), OSH_PORT_OFFSET (default 0,
# added to every port), BUILD (default build), and any OSH_* setting,
# which overrides the defaults written to $OSH_RUN_DIR/env.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUN=${OSH_RUN_DIR:-$top/run}
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BIN=$BUILD ;; *) BIN=$top/$BUILD ;; esac
OFF=${OSH_PORT_OFFSET:-0}

PG_PORT=$((15432 + OFF))
REDIS_PORT=$((16379 + OFF))
NGINX_PORT=$((8080 + OFF))
AUTH_PORT=$((8101 + OFF))
SERVER_MGMT_PORT=$((8102 + OFF))
CLUSTER_MGMT_PORT=$((8103 + OFF))
EXPORTER_PORT=$((9290 + OFF))
ALERT_WEBHOOK_PORT=$((8105 + OFF))

SERVICES="auth server-mgmt cluster-mgmt ipmi-exporter alert-webhook"
PROM_PORT=$((9090 + OFF))
ALERTMANAGER_PORT=$((9093 + OFF))
SIM_PORT=$((9001 + OFF))
SIM_COUNT=${OSH_SIM_COUNT:-3}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# A process of the pid file runs: exists and is not a zombie (a child of
# a shell that has not reaped it yet is dead for our purposes).
pid_alive() {
	local pid state
	[ -f "$1" ] || return 1
	pid=$(cat "$1")
	kill -0 "$pid" 2>/dev/null || return 1
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ "$state" != Z ]
}

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

random_secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c "${1:-32}"; }

# Services with a database: each has a role of its own owning a schema of
# its own (auth -> osh_auth owns auth); the others have none.
db_schema() {
	case $1 in
	ipmi-exporter) ;;
	*) echo "${1//-/_}" ;;
	esac
}

# The secrets live in a directory made by mktemp (0700 from the start,
# never a path someone else made first) and moved into place; every file
# in it is 0600.
make_secrets() {
	local s=$RUN/secrets svc
	if [ ! -d "$s" ] || [ -L "$s" ]; then
		[ -L "$s" ] && die "$s is a symbolic link; refusing to use it"
		local tmp
		tmp=$(mktemp -d "$RUN/.secrets.XXXXXXXX") || die "mktemp failed"
		mv -T "$tmp" "$s" || die "cannot create $s"
	fi
	[ -O "$s" ] || die "$s belongs to someone else"
	chmod 700 "$s"
	umask 077
	[ -s "$s/db-password" ] || random_secret 32 >"$s/db-password"
	for svc in $SERVICES; do
		[ -n "$(db_schema "$svc")" ] || continue
		[ -s "$s/db-$svc-password" ] || random_secret 32 >"$s/db-$svc-password"
	done
	[ -s "$s/redis-password" ] || random_secret 32 >"$s/redis-password"
	[ -s "$s/service-secret" ] || random_secret 40 >"$s/service-secret"
	[ -s "$s/exporter-password" ] || random_secret 32 >"$s/exporter-password"
	# Alertmanager's bearer secret for osh-alert-webhook (both read it).
	[ -s "$s/alert-webhook-secret" ] || random_secret 40 >"$s/alert-webhook-secret"
	if [ ! -s "$s/credential-keys" ]; then
		printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$s/credential-keys"
	fi
	if [ ! -s "$s/jwt-private.pem" ]; then
		openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
		    openssl pkcs8 -topk8 -nocrypt -out "$s/jwt-private.pem"
		openssl ec -in "$s/jwt-private.pem" -pubout \
		    -out "$s/jwt-public.pem" 2>/dev/null
	fi
	chmod 600 "$s"/*
	umask 022
}

# The data dir must be reachable by the postgres user; when the checkout
# sits somewhere it cannot enter (under /root, say), keep the data in a
# private directory mktemp makes in /var/tmp and point run/pg at it (the
# link is how later runs find it again).
pg_dir() {
	local want=$RUN/pg
	if [ "$(id -u)" -ne 0 ]; then
		echo "$want"
		return
	fi
	if [ -L "$want" ]; then
		readlink "$want"
		return
	fi
	mkdir -p "$want"
	chown postgres:postgres "$want"
	if runuser -u postgres -- test -w "$want"; then
		echo "$want"
		return
	fi
	rmdir "$want"
	local alt
	alt=$(mktemp -d /var/tmp/osh-pg.XXXXXXXX) || die "mktemp failed"
	chown postgres:postgres "$alt"
	ln -s "$alt" "$want"
	echo "$alt"
}

start_postgres() {
	local dir data
	dir=$(pg_dir)
	data=$dir/data
	chmod 700 "$dir" # logs may quote statements
	[ -n "$PGBIN" ] || die "PostgreSQL is not installed (run deploy/local/install-deps.sh)"
	if [ ! -f "$data/PG_VERSION" ]; then
		log "initialising PostgreSQL in $data"
		as_postgres "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 \
		    --no-locale --auth-local=peer --auth-host=scram-sha-256 \
		    >"$dir/initdb.log" 2>&1 || die "initdb failed: see $dir/initdb.log"
		cat >>"$data/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '/tmp'
		max_connections = 200
		shared_buffers = 128MB
		fsync = on
		log_min_duration_statement = 1000
		CONF
	fi
	if ! as_postgres "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$dir/postgres.log" \
		    -w -t 60 -o "-p $PG_PORT" start >/dev/null ||
		    die "PostgreSQL did not start: see $dir/postgres.log"
	fi
	# Passwords go to psql on its standard input (printf is a builtin),
	# never on a command line.
	{
		printf '\\set pw %s\n' "'$(<"$RUN/secrets/db-password")'"
		cat <<-'SQL'
		SET log_min_duration_statement = -1;
		SET client_min_messages = warning;
		SELECT 'CREATE ROLE osh LOGIN' WHERE NOT EXISTS
		    (SELECT 1 FROM pg_roles WHERE rolname = 'osh') \gexec
		ALTER ROLE osh PASSWORD :'pw';
		SELECT 'CREATE DATABASE osh OWNER osh' WHERE NOT EXISTS
		    (SELECT 1 FROM pg_database WHERE datname = 'osh') \gexec
		\c osh
		SET log_min_duration_statement = -1;
		SET client_min_messages = warning;
		REVOKE ALL ON DATABASE osh FROM PUBLIC;
		REVOKE ALL ON SCHEMA public FROM PUBLIC;
		SQL
		local svc schema
		for svc in $SERVICES; do
			schema=$(db_schema "$svc")
			[ -n "$schema" ] || continue
			printf '\\set role osh_%s\n\\set schema %s\n' "$schema" "$schema"
			printf '\\set pw %s\n' "'$(<"$RUN/secrets/db-$svc-password")'"
			db_role_sql
		done
		# pg_trgm (postgresql-contrib) serves server-mgmt's q= search
		# (its migration 004): an extension needs more than a
		# service's role holds, so the admin installs it, in a
		# schema of its own that server-mgmt may use.
		cat <<-'SQL'
		CREATE SCHEMA IF NOT EXISTS extensions;
		REVOKE ALL ON SCHEMA extensions FROM PUBLIC;
		CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
		GRANT USAGE ON SCHEMA extensions TO osh_server_mgmt;
		SQL
	} | as_postgres psql -q -h /tmp -p "$PG_PORT" -U postgres -d postgres \
	    -v ON_ERROR_STOP=1 >/dev/null ||
	    die "PostgreSQL roles not set up: see $dir/postgres.log"
}

# SQL giving the service role :role its schema :schema and nothing else:
# it may connect, owns its schema (created here, so the role needs no
# CREATE on the database), and sees no other schema. The admin role osh
# is a member of every service role (operators and tests read through
# it). Objects a stack of an older layout made as osh change hands.
db_role_sql() {
	cat <<-'SQL'
	SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS
	    (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
	ALTER ROLE :"role" PASSWORD :'pw';
	GRANT CONNECT ON DATABASE osh TO :"role";
	SELECT format('CREATE SCHEMA %I AUTHORIZATION %I', :'schema', :'role')
	    WHERE NOT EXISTS
	    (SELECT 1 FROM pg_namespace WHERE nspname = :'schema') \gexec
	ALTER SCHEMA :"schema" OWNER TO :"role";
	REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
	SELECT format('ALTER %s %s OWNER TO %I',
	    CASE c.relkind WHEN 'v' THEN 'VIEW'
	    WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
	    WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
	    c.oid::regclass, :'role')
	    FROM pg_class c
	    WHERE c.relnamespace = :'schema'::regnamespace
	    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
	    AND c.relowner <> :'role'::regrole
	    AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
	        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
	        AND d.deptype IN ('a', 'i'))) \gexec
	SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure,
	    :'role') FROM pg_proc p
	    WHERE p.pronamespace = :'schema'::regnamespace
	    AND p.proowner <> :'role'::regrole \gexec
	SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, :'role')
	    FROM pg_type t
	    WHERE t.typnamespace = :'schema'::regnamespace
	    AND t.typowner <> :'role'::regrole AND t.typrelid = 0
	    AND t.typtype IN ('c', 'd', 'e', 'r')
	    AND t.typelem = 0 \gexec
	GRANT :"role" TO osh;
	SQL
}

start_redis() {
	local dir=$RUN/redis
	mkdir -p "$dir"
	chmod 700 "$dir" # its config holds the password, its data the state
	pid_alive "$dir/redis.pid" && return
	umask 077
	cat >"$dir/redis.conf" <<-CONF
	bind 127.0.0.1
	port $REDIS_PORT
	protected-mode yes
	daemonize yes
	pidfile $dir/redis.pid
	logfile $RUN/logs/redis.log
	dir $dir
	appendonly yes
	appendfsync everysec
	requirepass $(cat "$RUN/secrets/redis-password")
	CONF
	umask 022
	redis-server "$dir/redis.conf" || die "Redis did not start"
	for _ in $(seq 50); do
		redis_cli PING 2>/dev/null | grep -q PONG && return
		sleep 0.1
	done
	die "Redis did not answer: see $RUN/logs/redis.log"
}

redis_cli() {
	REDISCLI_AUTH=$(cat "$RUN/secrets/redis-password") \
	    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

write_env() {
	# Settings the caller did not give keep these defaults.
	# (The database settings are per service: start_service.)
	cat >"$RUN/env" <<-ENV
	: "\${OSH_REDIS_PORT:=$REDIS_PORT}"
	: "\${OSH_REDIS_PASSWORD_FILE:=$RUN/secrets/redis-password}"
	: "\${OSH_JWT_ALG:=ES256}"
	: "\${OSH_JWT_PUBLIC_KEY_FILE:=$RUN/secrets/jwt-public.pem}"
	: "\${OSH_JWT_PRIVATE_KEY_FILE:=$RUN/secrets/jwt-private.pem}"
	: "\${OSH_SERVICE_SECRET_FILE:=$RUN/secrets/service-secret}"
	: "\${OSH_CREDENTIAL_KEYS_FILE:=$RUN/secrets/credential-keys}"
	: "\${OSH_ALERT_WEBHOOK_SECRET_FILE:=$RUN/secrets/alert-webhook-secret}"
	: "\${OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE:=$RUN/admin-password}"
	: "\${OSH_AUTH_URL:=http://127.0.0.1:$AUTH_PORT}"
	: "\${OSH_SERVER_MGMT_URL:=http://127.0.0.1:$SERVER_MGMT_PORT}"
	: "\${OSH_CLUSTER_MGMT_URL:=http://127.0.0.1:$CLUSTER_MGMT_PORT}"
	: "\${OSH_REDIS_HOST:=127.0.0.1}"
	: "\${OSH_EXPORTER_CONFIG:=$RUN/ipmi-exporter.yml}"
	# Discovery may scan the simulated BMCs on loopback, nothing else there
	# (set but empty: nothing).
	: "\${OSH_SCAN_ALLOW=127.0.0.1/32}"
	: "\${OSH_EXPORTER_WEB_CONFIG:=$RUN/ipmi-exporter-web.yml}"
	: "\${OSH_ALERT_WEBHOOK_SECRET_FILE:=$RUN/secrets/alert-webhook-secret}"
	: "\${OSH_ALERTMANAGER_URL:=http://127.0.0.1:$ALERTMANAGER_PORT}"
	: "\${OSH_PROMETHEUS_URL:=http://127.0.0.1:$PROM_PORT}"
	# For osh-admin (deploy/admin): the admin role, a member of each
	# service role. Not exported: no service reads them.
	: "\${OSH_ADMIN_DB_CONNINFO:=host=127.0.0.1 port=$PG_PORT dbname=osh user=osh}"
	: "\${OSH_ADMIN_DB_PASSWORD_FILE:=$RUN/secrets/db-password}"
	export OSH_REDIS_PORT
	export OSH_REDIS_PASSWORD_FILE OSH_JWT_ALG OSH_JWT_PUBLIC_KEY_FILE
	export OSH_JWT_PRIVATE_KEY_FILE OSH_SERVICE_SECRET_FILE
	export OSH_CREDENTIAL_KEYS_FILE OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE
	export OSH_ALERT_WEBHOOK_SECRET_FILE
	export OSH_AUTH_URL OSH_SERVER_MGMT_URL OSH_CLUSTER_MGMT_URL
	export OSH_REDIS_HOST OSH_EXPORTER_CONFIG
	export OSH_SCAN_ALLOW OSH_EXPORTER_WEB_CONFIG
	export OSH_ALERT_WEBHOOK_SECRET_FILE OSH_ALERTMANAGER_URL
	export OSH_PROMETHEUS_URL
	ENV
	write_exporter_web
	# The module file holds BMC passwords: 0600 like every secret.
	if [ ! -f "$RUN/ipmi-exporter.yml" ]; then
		umask 077
		cat >"$RUN/ipmi-exporter.yml" <<-YML
		# Modules of the local osh-ipmi-exporter (the simulated BMCs'
		# credentials; module osh takes them from server-mgmt). The
		# simulated BMCs have no DCMI: module osh, the one Prometheus
		# scrapes, leaves it out, or its collector would fail at every
		# scrape (alert IPMICollectorFailing).
		modules:
		  default:
		    user: admin
		    pass: secret
		    driver: LAN_2_0
		    privilege: admin
		    collectors: [ipmi, bmc, chassis, dcmi, sel, fru]
		    workaround_flags: [opensesspriv]
		  osh:
		    collectors: [ipmi, bmc, chassis, sel, fru]
		YML
		umask 022
	fi
	chmod 600 "$RUN/ipmi-exporter.yml"
}

# osh-ipmi-exporter answers only with basic authentication (exporter-toolkit
# web configuration); Prometheus reads the password from its file.
write_exporter_web() {
	local f=$RUN/ipmi-exporter-web.yml hash
	[ -s "$f" ] && return
	[ -x "$BIN/osh-ipmi-exporter" ] || die "$BIN/osh-ipmi-exporter is not built (run make)"
	hash=$("$BIN/osh-ipmi-exporter" --hash-password <"$RUN/secrets/exporter-password") ||
	    die "cannot hash the exporter password"
	umask 077
	cat >"$f" <<-YML
	# osh-ipmi-exporter's web configuration (the exporter-toolkit format of
	# the community exporters): Prometheus logs in as "prometheus" with the
	# password in secrets/exporter-password.
	basic_auth_users:
	  prometheus: $hash
	YML
	umask 022
}

# The services' unix sockets, for nginx (the TCP ports stay for /metrics,
# probes and Prometheus): a directory made here, 2750 root:www-data when
# run as root (nginx workers run as www-data; the setgid bit gives each
# socket that group), 0700 otherwise; nobody else may create anything in
# it, so a port or a socket path left by a crashed service cannot be
# taken over. Where www-data cannot reach $RUN, or its path is too long
# for a socket address, the directory is one mktemp makes in /tmp and
# run/sockets points at it (how later runs find it again).
sock_dir() {
	local want=$RUN/sockets dir
	if [ -L "$want" ]; then
		dir=$(readlink "$want")
		if [ -d "$dir" ] && [ ! -L "$dir" ] && [ -O "$dir" ]; then
			sock_dir_mode "$dir"
			echo "$dir"
			return
		fi
		rm -f "$want"
	fi
	[ -d "$want" ] || mkdir -m 700 "$want" || die "cannot create $want"
	sock_dir_mode "$want"
	# A socket's path must fit in 107 bytes: the longest name, with room.
	if [ $((${#want} + 24)) -le 107 ] && { [ "$(id -u)" -ne 0 ] ||
	    runuser -u www-data -- test -x "$want" 2>/dev/null; }; then
		echo "$want"
		return
	fi
	rm -rf "$want"
	dir=$(mktemp -d /tmp/osh-sock.XXXXXXXX) || die "mktemp failed"
	ln -s "$dir" "$want"
	sock_dir_mode "$dir"
	echo "$dir"
}

sock_dir_mode() {
	[ -O "$1" ] || die "$1 belongs to someone else"
	if [ "$(id -u)" -eq 0 ]; then
		chown root:www-data "$1"
		chmod 2750 "$1"
	else
		chmod 700 "$1"
	fi
}

# A service the gateway routes to (deploy/nginx/routes/<name>.conf)
# listens on a unix socket too.
sock_of() {
	[ -f "$top/deploy/nginx/routes/$1.conf" ] && echo "$SOCK/$1.sock"
	return 0
}

service_port() {
	case $1 in
	auth) echo "$AUTH_PORT" ;;
	server-mgmt) echo "$SERVER_MGMT_PORT" ;;
	cluster-mgmt) echo "$CLUSTER_MGMT_PORT" ;;
	ipmi-exporter) echo "$EXPORTER_PORT" ;;
	alert-webhook) echo "$ALERT_WEBHOOK_PORT" ;;
	esac
}

start_service() {
	local name=$1 port pidf
	port=$(service_port "$name")
	pidf=$RUN/pids/$name.pid
	pid_alive "$pidf" && return
	[ -x "$BIN/osh-$name" ] || die "$BIN/osh-$name is not built (run make)"
	(
		# shellcheck disable=SC1091
		. "$RUN/env"
		export OSH_PORT=$port
		OSH_LISTEN_UNIX=$(sock_of "$name")
		export OSH_LISTEN_UNIX
		# Each service logs in to PostgreSQL as its own role.
		local schema
		schema=$(db_schema "$name")
		if [ -n "$schema" ]; then
			: "${OSH_DB_CONNINFO:=host=127.0.0.1 port=$PG_PORT dbname=osh user=osh_$schema}"
			: "${OSH_DB_PASSWORD_FILE:=$RUN/secrets/db-$name-password}"
			export OSH_DB_CONNINFO OSH_DB_PASSWORD_FILE
		fi
		exec "$BIN/osh-$name" >>"$RUN/logs/$name.log" 2>&1 </dev/null
	) &
	echo $! >"$pidf"
}

wait_ready() {
	local name=$1 port sock
	port=$(service_port "$name")
	sock=$(sock_of "$name")
	for _ in $(seq 300); do
		# Ready on its port, and on its socket (what nginx uses).
		if curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null &&
		    { [ -z "$sock" ] || curl -fsS -o /dev/null \
		    --unix-socket "$sock" "http://localhost/ready" 2>/dev/null; }; then
			return
		fi
		pid_alive "$RUN/pids/$name.pid" ||
		    die "osh-$name exited: see $RUN/logs/$name.log"
		sleep 0.2
	done
	die "osh-$name not ready after 60 s: see $RUN/logs/$name.log"
}

# The gateway's routes, one file per service in deploy/nginx/routes/. A
# service this stack starts gets an upstream (its unix socket, in a
# directory only we can write to) and a proxy_pass; any other is answered
# by nginx itself (JSON 503, Retry-After), so no request and no bearer
# token goes to a port or a socket that no process of ours owns, not even
# while a service is down. Adding a service to SERVICES is all it takes to
# route to it.
nginx_routes() {
	local dir=$1 f name up
	rm -rf "$dir/routes" "$dir/backend"
	mkdir -p "$dir/routes" "$dir/backend"
	: >"$dir/upstreams.conf"
	for f in "$top"/deploy/nginx/routes/*.conf; do
		name=$(basename "$f" .conf)
		sed -e "s|@RUN@|$RUN|g" \
		    -e "s|@LOGIN_BURST@|${OSH_NGINX_LOGIN_BURST:-20}|" \
		    "$f" >"$dir/routes/$name.conf"
		if [[ " $SERVICES " == *" $name "* ]]; then
			up=${name//-/_}
			printf 'upstream %s {\n\tserver unix:%s;\n\tkeepalive 64;\n}\n' \
			    "$up" "$(sock_of "$name")" >>"$dir/upstreams.conf"
			printf 'proxy_pass http://%s;\n' "$up" >"$dir/backend/$name.conf"
		else
			cat >"$dir/backend/$name.conf" <<-EOF
			# osh-$name does not run in this stack.
			include $RUN/nginx/headers.conf;
			add_header Retry-After 3600 always;
			return 503 '{"error":{"code":"unavailable","message":"osh-$name is not part of this deployment","request_id":"\$req_id"}}';
			EOF
		fi
	done
}

start_nginx() {
	local dir=$RUN/nginx user_line="" nofile=32768 hard
	mkdir -p "$dir/tmp"
	if [ "$(id -u)" -eq 0 ]; then
		user_line="user www-data;"
		chown -R www-data "$dir/tmp"
	else
		# Without root a worker gets no more than the hard limit.
		hard=$(ulimit -Hn)
		[ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] &&
		    nofile=$hard
	fi
	sed -e "s|@RUN@|$RUN|g" -e "s|@USER_LINE@|$user_line|" \
	    -e "s|@NGINX_PORT@|$NGINX_PORT|" \
	    -e "s|@LOGIN_RATE@|${OSH_NGINX_LOGIN_RATE:-10r/s}|" \
	    -e "s|@NOFILE@|$nofile|" \
	    -e "s|@UI_ROOT@|${OSH_UI_ROOT:-$top/build/ui/dist}|" \
	    "$top/deploy/nginx/nginx.conf.in" >"$dir/nginx.conf"
	sed -e "s|@RUN@|$RUN|g" "$top/deploy/nginx/headers.conf" >"$dir/headers.conf"
	cp "$top/deploy/nginx/ui-headers.conf" "$dir/ui-headers.conf"
	sed -e "s|@RUN@|$RUN|g" "$top/deploy/nginx/proxy.conf" >"$dir/proxy.conf"
	sh "$top/deploy/nginx/trusted-proxies.sh" \
	    "${OSH_GATEWAY_TRUSTED_PROXIES:-}" >"$dir/trusted.conf" ||
	    die "OSH_GATEWAY_TRUSTED_PROXIES invalid"
	nginx_routes "$dir"
	nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$RUN/logs/nginx-error.log" ||
	    die "nginx configuration invalid"
	if pid_alive "$dir/nginx.pid"; then
		kill -HUP "$(cat "$dir/nginx.pid")"
	else
		nginx -c "$dir/nginx.conf" -p "$dir" -e "$RUN/logs/nginx-error.log" ||
		    die "nginx did not start: see $RUN/logs/nginx-error.log"
	fi
}

start_prometheus() {
	local dir=$RUN/prometheus interval=${OSH_PROM_INTERVAL:-30s}
	local timeout=${OSH_PROM_TIMEOUT:-20s}
	command -v prometheus >/dev/null || die "prometheus is not installed"
	mkdir -p "$dir/data"
	sed -e "s|@SCRAPE_INTERVAL@|$interval|g" \
	    -e "s|@EVAL_INTERVAL@|${OSH_PROM_EVAL_INTERVAL:-$interval}|" \
	    -e "s|@SCRAPE_TIMEOUT@|$timeout|" \
	    -e "s|@RULES_DIR@|$top/deploy/prometheus/rules|" \
	    -e "s|@ALERTMANAGER_PORT@|$ALERTMANAGER_PORT|g" \
	    -e "s|@SD_REFRESH@|${OSH_PROM_SD_REFRESH:-30s}|" \
	    -e "s|@AUTH_PORT@|$AUTH_PORT|" \
	    -e "s|@SERVER_MGMT_PORT@|$SERVER_MGMT_PORT|g" \
	    -e "s|@EXPORTER_PORT@|$EXPORTER_PORT|g" \
	    -e "s|@EXPORTER_PASSWORD_FILE@|$RUN/secrets/exporter-password|g" \
	    "$top/deploy/prometheus/prometheus.yml.in" >"$dir/prometheus.yml"
	if pid_alive "$RUN/pids/prometheus.pid"; then
		kill -HUP "$(cat "$RUN/pids/prometheus.pid")"
		return
	fi
	prometheus --config.file="$dir/prometheus.yml" \
	    --storage.tsdb.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$PROM_PORT" \
	    --web.enable-lifecycle >>"$RUN/logs/prometheus.log" 2>&1 &
	echo $! >"$RUN/pids/prometheus.pid"
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" 2>/dev/null && return
		sleep 0.2
	done
	die "Prometheus not ready: see $RUN/logs/prometheus.log"
}

# Alertmanager (Debian's prometheus-alertmanager), on loopback only, with
# no cluster (--cluster.listen-address= turns gossip off): Prometheus sends
# it the alerts, it sends them to osh-alert-webhook with the bearer secret
# of secrets/alert-webhook-secret. Group timings from OSH_AM_GROUP_WAIT,
# OSH_AM_GROUP_INTERVAL and OSH_AM_REPEAT_INTERVAL.
start_alertmanager() {
	local dir=$RUN/alertmanager bin
	bin=$(command -v prometheus-alertmanager || command -v alertmanager) ||
	    die "prometheus-alertmanager is not installed (run deploy/local/install-deps.sh)"
	mkdir -p "$dir/data"
	sed -e "s|@GROUP_WAIT@|${OSH_AM_GROUP_WAIT:-10s}|" \
	    -e "s|@GROUP_INTERVAL@|${OSH_AM_GROUP_INTERVAL:-1m}|" \
	    -e "s|@REPEAT_INTERVAL@|${OSH_AM_REPEAT_INTERVAL:-4h}|" \
	    -e "s|@ALERT_WEBHOOK_PORT@|$ALERT_WEBHOOK_PORT|" \
	    -e "s|@WEBHOOK_SECRET_FILE@|$RUN/secrets/alert-webhook-secret|" \
	    "$top/deploy/alertmanager/alertmanager.yml.in" >"$dir/alertmanager.yml"
	if pid_alive "$RUN/pids/alertmanager.pid"; then
		kill -HUP "$(cat "$RUN/pids/alertmanager.pid")"
		return
	fi
	"$bin" --config.file="$dir/alertmanager.yml" \
	    --storage.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" \
	    --cluster.listen-address= >>"$RUN/logs/alertmanager.log" 2>&1 &
	echo $! >"$RUN/pids/alertmanager.pid"
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" 2>/dev/null && return
		pid_alive "$RUN/pids/alertmanager.pid" ||
		    die "Alertmanager exited: see $RUN/logs/alertmanager.log"
		sleep 0.2
	done
	die "Alertmanager not ready: see $RUN/logs/alertmanager.log"
}

first_admin() {
	local f=$RUN/admin-password
	if [ ! -s "$f" ]; then
		umask 077
		random_secret 20 >"$f"
		umask 022
		touch "$RUN/.admin-new"
	fi
}

# Starts the simulated BMCs and, the first time, registers them as
# servers so that a new stack shows a working fleet.
start_sims() {
	[ "$SIM_COUNT" -gt 0 ] || return 0
	python3 "$top/deploy/sim/osh-sim" up "$RUN/sim" --count "$SIM_COUNT" \
	    --port "$SIM_PORT" >/dev/null || die "simulated BMCs did not start"
	[ -f "$RUN/sim/.registered" ] && return 0
	local gw=http://127.0.0.1:$NGINX_PORT token i
	# Passwords and the token go to curl on stdin or through a pipe
	# (printf is a builtin): never on a command line.
	token=$(printf '{"username":"admin","password":"%s"}' \
	    "$(<"$RUN/admin-password")" |
	    curl -fsS -X POST "$gw/api/auth/login" \
	    -H 'Content-Type: application/json' --data-binary @- |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
	    die "cannot log in to register the simulated BMCs"
	for i in $(seq "$SIM_COUNT"); do
		printf '{"name":"sim-%s","bmc_address":"127.0.0.1:%s","workarounds":["opensesspriv"],"labels":{"env":"simulated"},"credentials":{"username":"admin","password":"secret"}}' \
		    "$i" "$((SIM_PORT + i - 1))" |
		    curl -fsS -o /dev/null -X POST "$gw/api/servers" \
		    -H @<(printf 'Authorization: Bearer %s\n' "$token") \
		    -H 'Content-Type: application/json' --data-binary @- ||
		    die "cannot register sim-$i"
	done
	touch "$RUN/sim/.registered"
}

cmd_up() {
	command -v openssl >/dev/null || die "missing packages: run deploy/local/install-deps.sh"
	mkdir -p "$RUN/logs" "$RUN/pids"
	make_secrets
	first_admin
	write_env
	start_postgres
	start_redis
	SOCK=$(sock_dir)
	for s in $SERVICES; do start_service "$s"; done
	for s in $SERVICES; do wait_ready "$s"; done
	start_nginx
	for _ in $(seq 50); do
		curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/health" && break
		sleep 0.1
	done
	start_sims
	start_alertmanager
	start_prometheus
	echo "OpenServerHub is up: http://127.0.0.1:$NGINX_PORT/"
	echo "Prometheus: http://127.0.0.1:$PROM_PORT/ (BMC metrics through osh-ipmi-exporter :$EXPORTER_PORT)"
	echo "Alertmanager: http://127.0.0.1:$ALERTMANAGER_PORT/ (alerts to osh-alert-webhook :$ALERT_WEBHOOK_PORT)"
	[ "$SIM_COUNT" -gt 0 ] && echo "Simulated BMCs: 127.0.0.1:$SIM_PORT-$((SIM_PORT + SIM_COUNT - 1)) (servers sim-1..sim-$SIM_COUNT)"
	if [ -f "$RUN/.admin-new" ]; then
		echo "First admin login: admin / $(cat "$RUN/admin-password")"
		echo "(shown once; also kept in $RUN/admin-password, mode 0600)"
		rm -f "$RUN/.admin-new"
	else
		echo "Admin login: admin (password in $RUN/admin-password)"
	fi
}

# Stops the processes of the given pid files together: TERM to all, then
# up to 10 s for all of them, then KILL to those left.
stop_pids() {
	local f pids=() names=()
	for f in "$@"; do
		if pid_alive "$f"; then
			pids+=("$(cat "$f")")
			names+=("$(basename "$f" .pid)")
			kill -TERM "${pids[-1]}" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	for _ in $(seq 100); do
		local alive=0 p
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 1 ] || return 0
		sleep 0.1
	done
	local i
	for i in "${!pids[@]}"; do
		if kill -0 "${pids[$i]}" 2>/dev/null; then
			log "${names[$i]} did not stop, killing it"
			kill -KILL "${pids[$i]}" 2>/dev/null || true
		fi
	done
}

cmd_down() {
	[ -d "$RUN" ] || return 0
	stop_pids "$RUN/nginx/nginx.pid"
	local f pidfiles=()
	for f in "$RUN"/pids/*.pid; do
		[ -e "$f" ] && pidfiles+=("$f")
	done
	stop_pids "${pidfiles[@]}"
	# What the services used goes down together once they are gone.
	stop_pids "$RUN/redis/redis.pid" &
	if [ -f "$RUN/sim/fleet.json" ]; then
		python3 "$top/deploy/sim/osh-sim" down "$RUN/sim" || true
	fi &
	if [ -e "$RUN/pg" ] && [ -n "$PGBIN" ]; then
		local data
		data=$(readlink -f "$RUN/pg")/data
		if [ -f "$data/postmaster.pid" ]; then
			as_postgres "$PGBIN/pg_ctl" -D "$data" -m fast -w stop \
			    >/dev/null 2>&1 || true
		fi
	fi
	wait
	echo "OpenServerHub stopped"
}

# Starts services of a stack that is up otherwise (a crashed one, say),
# the way cmd_up does, and waits until they are ready.
cmd_start() {
	local s
	[ $# -gt 0 ] || die "usage: $0 start SERVICE..."
	for s in "$@"; do
		[[ " $SERVICES " == *" $s "* ]] || die "unknown service $s"
	done
	mkdir -p "$RUN/logs" "$RUN/pids"
	SOCK=$(sock_dir)
	for s in "$@"; do start_service "$s"; done
	for s in "$@"; do wait_ready "$s"; done
}

# Everything a run dir holds, wherever it lives: the PostgreSQL data and
# the socket directory may sit in mktemp directories it links to.
cmd_destroy() {
	cmd_down
	[ -d "$RUN" ] || return 0
	local link
	for link in "$RUN/pg" "$RUN/sockets"; do
		[ -L "$link" ] && rm -rf "$(readlink -f "$link")"
	done
	rm -rf "$RUN"
	echo "OpenServerHub data deleted ($RUN)"
}

cmd_status() {
	for f in "$RUN"/pids/*.pid "$RUN/redis/redis.pid" "$RUN/nginx/nginx.pid"; do
		[ -e "$f" ] || continue
		if pid_alive "$f"; then
			echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
		else
			echo "$(basename "$f" .pid): stopped"
		fi
	done
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
start) shift; cmd_start "$@" ;;
destroy) cmd_destroy ;;
*) echo "usage: $0 up|down|status|destroy|start SERVICE..." >&2; exit 2 ;;
esac

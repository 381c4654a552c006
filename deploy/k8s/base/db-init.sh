#!/bin/sh
# Gives each OpenServerHub service its PostgreSQL role and schema, as
# deploy/local/stack.sh does for the local stack: role osh_<service>
# (password from $OSH_SECRETS_DIR/db-<service>-password) owning schema
# <service> and nothing else; pg_trgm in schema "extensions" for
# server-mgmt's search. Run as the database's administrator (superuser,
# or a role with CREATEROLE owning the database) by Compose's db-init
# service and Kubernetes' osh-db-init Job, at every start: it changes
# nothing that is right already, and sets the passwords to the files'.
#
# The services apply their own migrations when they start (under an
# advisory lock, so replicas starting together take turns).
#
#   PGHOST, PGPORT, PGUSER, PGDATABASE   libpq's: where and as whom
#   OSH_DB_ADMIN_PASSWORD_FILE           PGUSER's password (none: libpq's
#                                        own ways, peer authentication say)
#   OSH_SECRETS_DIR                      the services' password files
#   OSH_DB_SERVICES                      (auth server-mgmt cluster-mgmt
#                                        alert-webhook)
set -eu

secrets=${OSH_SECRETS_DIR:-/run/secrets}
services=${OSH_DB_SERVICES:-auth server-mgmt cluster-mgmt alert-webhook}
if [ -n "${OSH_DB_ADMIN_PASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$OSH_DB_ADMIN_PASSWORD_FILE")
	export PGPASSWORD
fi

for svc in $services; do
	[ -s "$secrets/db-$svc-password" ] ||
	    { echo "db-init: $secrets/db-$svc-password is missing" >&2; exit 1; }
done

# Kubernetes starts this beside the database: wait up to 2 minutes.
i=0
until pg_isready -q; do
	i=$((i + 1))
	[ $i -lt 120 ] || { echo "db-init: database not ready" >&2; exit 1; }
	sleep 1
done

{
	cat <<-'SQL'
	SET client_min_messages = warning;
	SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC',
	    current_database()) \gexec
	REVOKE ALL ON SCHEMA public FROM PUBLIC;
	SQL
	for svc in $services; do
		schema=$(echo "$svc" | tr - _)
		f=$secrets/db-$svc-password
		# psql reads the password file itself (\set with a
		# backquoted command): it is on no command line and needs no
		# quoting here.
		printf '\\set role osh_%s\n\\set schema %s\n' "$schema" "$schema"
		printf '\\set pw `cat %s`\n' "$f"
		cat <<-'SQL'
		SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS
		    (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
		ALTER ROLE :"role" PASSWORD :'pw';
		GRANT :"role" TO CURRENT_USER;
		SELECT format('GRANT CONNECT ON DATABASE %I TO %I',
		    current_database(), :'role') \gexec
		SELECT format('CREATE SCHEMA %I AUTHORIZATION %I', :'schema',
		    :'role') WHERE NOT EXISTS
		    (SELECT 1 FROM pg_namespace WHERE nspname = :'schema') \gexec
		ALTER SCHEMA :"schema" OWNER TO :"role";
		REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
		SQL
	done
	cat <<-'SQL'
	CREATE SCHEMA IF NOT EXISTS extensions;
	REVOKE ALL ON SCHEMA extensions FROM PUBLIC;
	CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
	SELECT 'GRANT USAGE ON SCHEMA extensions TO osh_server_mgmt'
	    WHERE EXISTS (SELECT 1 FROM pg_roles
	    WHERE rolname = 'osh_server_mgmt') \gexec
	SQL
} | psql -q -v ON_ERROR_STOP=1 -X >/dev/null
echo "db-init: roles and schemas ready for: $services"

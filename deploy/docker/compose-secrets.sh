#!/bin/sh
# Creates the secrets compose.yaml hands to its containers as Compose
# secrets (make compose-secrets): one file each in DIR (default
# ./secrets), named as deploy/local/stack.sh names its own. A file that
# exists is kept, so running it again only adds what a newer compose.yaml
# needs. deploy/k8s/make-secrets.sh turns the same files into the
# Kubernetes Secret osh-secrets.
#
# DIR is 0700, its files 0644: outside Swarm, Compose bind-mounts a secret
# file into the container as it is on the host (its uid, gid and mode
# settings are Swarm's), and the containers read them as users of their
# own (osh 10001, postgres 999, redis 999, nobody, grafana 472), so the
# directory is what keeps other users of the host out.
set -eu

dir=${1:-secrets}
services="auth server-mgmt cluster-mgmt alert-webhook"

command -v openssl >/dev/null || { echo "compose-secrets: openssl is needed" >&2; exit 1; }
random_secret() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"; }

# gen NAME COMMAND...: COMMAND's output becomes NAME, unless NAME exists;
# a new file appears whole (written under a temporary name, renamed).
gen() {
	name=$1
	shift
	[ -s "$dir/$name" ] && return 0
	"$@" >"$dir/.$name.tmp"
	chmod 644 "$dir/.$name.tmp"
	mv "$dir/.$name.tmp" "$dir/$name"
	new="$new $name"
}
credential_key() { printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64)"; }
jwt_private() {
	openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
	    openssl pkcs8 -topk8 -nocrypt
}
jwt_public() { openssl ec -in "$dir/jwt-private.pem" -pubout 2>/dev/null; }

umask 077
[ -L "$dir" ] && { echo "compose-secrets: $dir is a symbolic link" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
new=""
gen db-password random_secret 32
for s in $services; do
	gen "db-$s-password" random_secret 32
done
gen redis-password random_secret 32
gen service-secret random_secret 40
gen exporter-password random_secret 32
gen alert-webhook-secret random_secret 40
gen credential-keys credential_key
gen admin-password random_secret 20
gen grafana-admin-password random_secret 24
# A new private key gets a new public key.
[ -s "$dir/jwt-private.pem" ] || rm -f "$dir/jwt-public.pem"
gen jwt-private.pem jwt_private
gen jwt-public.pem jwt_public
if [ -n "$new" ]; then
	echo "compose-secrets: created in $dir:$new"
else
	echo "compose-secrets: $dir holds every secret already"
fi

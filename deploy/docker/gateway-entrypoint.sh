#!/bin/sh
# The gateway container's entrypoint: renders deploy/nginx/ (copied to
# $OSH_GATEWAY_CONF by gateway.Containerfile) the way deploy/local/stack.sh
# does, then runs nginx in the foreground, logging to stdout and stderr.
#
#   OSH_GATEWAY_PORT       port to listen on, all addresses (8080)
#   OSH_GATEWAY_UPSTREAMS  "name=host:port ...": where each route file's
#                          service (routes/<name>.conf) runs; a route
#                          whose service is not listed is answered by
#                          nginx itself (JSON 503), as in stack.sh
#   OSH_GATEWAY_CONF       the templates (/etc/osh/nginx)
#   OSH_GATEWAY_RUN        where the rendered files go (/tmp/osh-gateway)
#   OSH_GATEWAY_UI         the built web UI (/usr/share/osh/ui)
#   OSH_NGINX_LOGIN_RATE, OSH_NGINX_LOGIN_BURST   as in stack.sh
#   OSH_GATEWAY_TRUSTED_PROXIES  the load balancers in front (addresses,
#                          CIDR ranges) whose X-Forwarded-For and
#                          X-Forwarded-Proto are believed
#                          (deploy/nginx/trusted-proxies.sh); none
#
# nginx looks the upstream host names up when it starts: in Compose the
# gateway starts after the services (depends_on), in Kubernetes the names
# are those of Services, whose addresses do not change.
set -eu

src=${OSH_GATEWAY_CONF:-/etc/osh/nginx}
RUN=${OSH_GATEWAY_RUN:-/tmp/osh-gateway}
port=${OSH_GATEWAY_PORT:-8080}
upstreams=${OSH_GATEWAY_UPSTREAMS:-}
dir=$RUN/nginx

die() { echo "osh-gateway: $*" >&2; exit 1; }

upstream_of() {
	for u in $upstreams; do
		case $u in "$1="?*) echo "${u#*=}"; return ;; esac
	done
}

rm -rf "$dir"
mkdir -p "$dir/tmp" "$dir/routes" "$dir/backend" "$RUN/logs"
ln -sf /dev/stdout "$RUN/logs/nginx-access.log"
ln -sf /dev/stderr "$RUN/logs/nginx-error.log"

# Descriptors for worker_connections, as far as the hard limit allows.
nofile=32768
hard=$(ulimit -Hn)
[ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ] && nofile=$hard

# The template listens on loopback (the local stack); a container listens
# on all its addresses.
grep -q 'listen 127.0.0.1:@NGINX_PORT@ ' "$src/nginx.conf.in" ||
    die "nginx.conf.in: no 'listen 127.0.0.1:@NGINX_PORT@' line to adapt"
sed -e "s|listen 127.0.0.1:@NGINX_PORT@ |listen @NGINX_PORT@ |" \
    -e "s|@RUN@|$RUN|g" -e "s|@USER_LINE@||" \
    -e "s|@NGINX_PORT@|$port|" \
    -e "s|@LOGIN_RATE@|${OSH_NGINX_LOGIN_RATE:-10r/s}|" \
    -e "s|@NOFILE@|$nofile|" \
    -e "s|@UI_ROOT@|${OSH_GATEWAY_UI:-/usr/share/osh/ui}|" \
    "$src/nginx.conf.in" >"$dir/nginx.conf"
sed -e "s|@RUN@|$RUN|g" "$src/headers.conf" >"$dir/headers.conf"
cp "$src/ui-headers.conf" "$dir/ui-headers.conf"
sed -e "s|@RUN@|$RUN|g" "$src/proxy.conf" >"$dir/proxy.conf"
sh "$src/trusted-proxies.sh" "${OSH_GATEWAY_TRUSTED_PROXIES:-}" \
    >"$dir/trusted.conf" || die "OSH_GATEWAY_TRUSTED_PROXIES invalid"

: >"$dir/upstreams.conf"
for f in "$src"/routes/*.conf; do
	name=$(basename "$f" .conf)
	sed -e "s|@RUN@|$RUN|g" \
	    -e "s|@LOGIN_BURST@|${OSH_NGINX_LOGIN_BURST:-20}|" \
	    "$f" >"$dir/routes/$name.conf"
	addr=$(upstream_of "$name")
	if [ -n "$addr" ]; then
		up=$(echo "$name" | tr - _)
		printf 'upstream %s {\n\tserver %s;\n\tkeepalive 64;\n}\n' \
		    "$up" "$addr" >>"$dir/upstreams.conf"
		printf 'proxy_pass http://%s;\n' "$up" >"$dir/backend/$name.conf"
	else
		# A route that sets its own headers (grafana.conf) keeps them.
		headers="include $RUN/nginx/headers.conf;"
		grep -q '^[[:space:]]*add_header' "$f" && headers=""
		cat >"$dir/backend/$name.conf" <<-EOT
		# osh-$name does not run in this deployment.
		$headers
		add_header Retry-After 3600 always;
		return 503 '{"error":{"code":"unavailable","message":"osh-$name is not part of this deployment","request_id":"\$req_id"}}';
		EOT
	fi
done
for u in $upstreams; do
	[ -f "$src/routes/${u%%=*}.conf" ] ||
	    die "OSH_GATEWAY_UPSTREAMS: no route file for ${u%%=*}"
done

nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e /dev/stderr ||
    die "nginx configuration invalid"
exec nginx -c "$dir/nginx.conf" -p "$dir" -e /dev/stderr -g 'daemon off;'

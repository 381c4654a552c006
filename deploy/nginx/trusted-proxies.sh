#!/bin/sh
# Writes the gateway's trusted-proxy configuration (included by
# nginx.conf.in) for the load balancers in front of it: the addresses and
# CIDR ranges (IPv4, IPv6; commas or spaces) in $1, OSH_GATEWAY_TRUSTED_PROXIES.
#
# From a peer in these ranges, and only from one, nginx believes
#  - X-Forwarded-For (read from the right past the trusted ranges,
#    real_ip_recursive): $remote_addr becomes the client, which the login
#    limit counts and the services are told in X-Real-IP/X-Forwarded-For;
#  - X-Forwarded-Proto: "https" there makes $osh_proto https, which the
#    services are told, so that the refresh cookie gets Secure when a
#    TLS-terminating load balancer was reached over HTTPS.
# Empty (the default): nothing is believed, $osh_proto is nginx's $scheme.
# Used by deploy/local/stack.sh and the gateway image's entrypoint.
set -eu

list=$(printf '%s' "${1:-}" | tr ',\t\n' '   ')
for n in $list; do
	# nginx -t checks the ranges; refuse here what is not one at all,
	# so nothing else can reach the configuration through this value.
	case $n in
	*[!0-9A-Fa-f.:/]* | /* | */*/*)
		echo "trusted-proxies.sh: \"$n\" is not an address or a CIDR range" >&2
		exit 1 ;;
	esac
done
echo "# Rendered by trusted-proxies.sh from: ${list:-(none)}"
echo "geo \$realip_remote_addr \$osh_from_proxy {"
echo "	default 0;"
for n in $list; do
	echo "	$n 1;"
done
echo "}"
for n in $list; do
	echo "set_real_ip_from $n;"
done
echo "real_ip_header X-Forwarded-For;"
echo "real_ip_recursive on;"

#!/bin/sh
# Prints the Secret osh-secrets (the keys of deploy/k8s/secret-template.yaml)
# with new random values, made by deploy/docker/compose-secrets.sh, for
# kubectl create (never apply: an existing Secret is kept, not replaced):
#
#   sh deploy/k8s/make-secrets.sh NAMESPACE | kubectl create -f -
#
# The first admin's password is in key admin-password:
#   kubectl -n NAMESPACE get secret osh-secrets \
#       -o jsonpath='{.data.admin-password}' | base64 -d
set -eu
ns=${1:?usage: make-secrets.sh NAMESPACE}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$top/deploy/docker/compose-secrets.sh" "$tmp/s" >/dev/null
# Compose only: Grafana runs beside the cluster's Prometheus.
rm -f "$tmp/s/grafana-admin-password"
printf prometheus >"$tmp/s/exporter-username"
kubectl create secret generic osh-secrets --namespace "$ns" \
    --from-file="$tmp/s" --dry-run=client -o yaml

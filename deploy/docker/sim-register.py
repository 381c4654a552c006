#!/usr/bin/env python3
"""Registers the simulated BMCs of compose.yaml's "sim" profile as servers
sim-1..sim-N through the gateway, logged in as the first admin (the
password from its Compose secret), the way deploy/local/stack.sh does for
the local stack. A name already registered is left alone, so it may run
at every start.

  OSH_GATEWAY_URL   the gateway (http://gateway:8080)
  OSH_SIM_HOST      the simulator's host name (sim)
  OSH_SIM_COUNT, OSH_SIM_PORT   as the simulator's (3, 9001)
  OSH_ADMIN_PASSWORD_FILE       (/run/secrets/admin-password)
"""
import json
import os
import sys
import urllib.error
import urllib.request

GW = os.environ.get("OSH_GATEWAY_URL", "http://gateway:8080")


def call(path, body, token=None):
    req = urllib.request.Request(GW + path, data=json.dumps(body).encode(),
                                 method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def main():
    host = os.environ.get("OSH_SIM_HOST", "sim")
    count = int(os.environ.get("OSH_SIM_COUNT", "3"))
    port = int(os.environ.get("OSH_SIM_PORT", "9001"))
    path = os.environ.get("OSH_ADMIN_PASSWORD_FILE",
                          "/run/secrets/admin-password")
    with open(path) as f:
        password = f.read().strip()
    try:
        token = call("/api/auth/login", {"username": "admin",
                                         "password": password})["access_token"]
    except urllib.error.HTTPError as e:
        sys.exit(f"osh-sim-register: login as admin refused ({e.code}): "
                 "register the simulated BMCs by hand")
    for i in range(1, count + 1):
        body = {"name": f"sim-{i}", "bmc_address": f"{host}:{port + i - 1}",
                "workarounds": ["opensesspriv"],
                "labels": {"env": "simulated"},
                "credentials": {"username": "admin", "password": "secret"}}
        try:
            call("/api/servers", body, token)
            print(f"osh-sim-register: sim-{i} registered ({host}:{port + i - 1})")
        except urllib.error.HTTPError as e:
            if e.code != 409:
                sys.exit(f"osh-sim-register: sim-{i}: HTTP {e.code}")
            print(f"osh-sim-register: sim-{i} already registered")


if __name__ == "__main__":
    main()

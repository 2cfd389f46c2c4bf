#!/usr/bin/env bash
# Installs what the app's tests start on loopback, when it is missing: the Debian packages
# mariadb-server and redis-server (as root, with apt). Their services are not started: the
# tests start their own servers in temporary directories (app/internal/testsvc).
set -euo pipefail
missing=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: ${missing[*]} missing; install them (sudo apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages from starting system services; the tests start their own.
[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

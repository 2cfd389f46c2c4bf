#!/usr/bin/env bash
# Installs Debian packages for the project's tests without starting their services:
#   hack/apt-install.sh WHO PACKAGE...
# WHO names the caller in messages. Needs root; says what to run otherwise.
set -euo pipefail
who=$1; shift
[ $# -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "$who: $* missing; install them (sudo apt-get install $*) or run as root" >&2
  exit 1
fi
echo "$who: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages from starting system services; the tests start their own.
[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
apt-get install -y -qq --no-install-recommends "$@" >/dev/null

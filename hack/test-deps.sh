#!/usr/bin/env bash
# Installs what the app's tests start on loopback, when it is missing: the Debian packages
# mariadb-server and redis-server (as root, with apt). Their services are not started: the
# tests start their own servers in temporary directories (test/testsvc). And chromium, the
# headless browser the pages are tested in (app/internal/web/browser_test.go). And it checks for
# moto_server (below).
set -euo pipefail
# moto_server (moto 5.2.1 with its server extra) plays the AWS APIs ACK lacks (RDS snapshot
# copies across regions); it is a Python package, not a Debian one, so it is checked, not installed.
if ! command -v moto_server >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.pyenv/shims/moto_server" ]; then
	echo "test-deps: moto_server is missing: the disaster-recovery tests need moto 5.2.1 with its server extra (pip install 'moto[server]==5.2.1')" >&2
	exit 1
fi
missing=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
exec "$(dirname "$0")/apt-install.sh" test-deps "${missing[@]}"

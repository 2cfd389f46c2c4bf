#!/usr/bin/env bash
# Installs what the app's tests start on loopback, when it is missing: the Debian packages
# mariadb-server and redis-server (as root, with apt). Their services are not started: the
# tests start their own servers in temporary directories (test/testsvc). And chromium, the
# headless browser the pages are tested in (app/internal/web/browser_test.go).
set -euo pipefail
missing=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
exec "$(dirname "$0")/apt-install.sh" test-deps "${missing[@]}"

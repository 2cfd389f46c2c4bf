#!/usr/bin/env bash
# Lists the packages whose tests need nothing outside the test process: no API server (their
# tests import neither envtest nor test/testenv), no MariaDB or Redis (test/testsvc), no browser
# (chromedp). make unit runs them; make test runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... |
	awk 'NF > 1 && !/controller-runtime\/pkg\/envtest|\/test\/testenv|\/test\/testsvc|chromedp/ { print $1 }'

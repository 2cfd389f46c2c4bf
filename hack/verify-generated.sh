#!/usr/bin/env bash
# Fails when generated files (CRDs, RBAC, deepcopy) or go.mod/go.sum are stale: regenerates
# them and asks git whether anything changed. Run by `make verify`, and so by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory manifests generate >/dev/null
go mod tidy -diff >/dev/null || { echo "go.mod/go.sum are stale: run 'go mod tidy'" >&2; exit 1; }

stale=$(git status --porcelain -- api config controllers | grep -v '^??' || true)
new=$(git status --porcelain --untracked-files=all -- config/crd/bases config/rbac/role.yaml '*zz_generated*' | grep '^??' || true)
if [ -n "$stale$new" ]; then
  echo "generated files are stale; run 'make manifests generate' and commit:" >&2
  echo "$stale$new" >&2
  git --no-pager diff --stat -- api config controllers >&2
  exit 1
fi
echo "verify: generated files, go.mod and go.sum are up to date"

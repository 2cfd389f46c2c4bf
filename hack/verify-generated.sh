#!/usr/bin/env bash
# Fails when generated files (CRDs, RBAC, deepcopy) or go.mod/go.sum do not match the sources:
# it fingerprints them, regenerates, and compares. Works on a dirty tree too: what counts is
# whether the generated files follow from the sources as they are. Run by `make verify`, and
# so by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

fingerprint() {
  { ls config/crd/bases/*.yaml config/rbac/role.yaml go.mod go.sum charts/tenant-operator/crds/*.yaml \
      charts/tenant-operator/files/clusterrole-rules.yaml charts/tenant-operator/files/prices.yaml config/argocd/argocd-cm-patch.yaml docs/api.md
    git ls-files --cached --others --exclude-standard '*zz_generated.deepcopy.go'
  } | sort -u | xargs sha256sum
}

before=$(fingerprint)
make --no-print-directory manifests generate >/dev/null
go mod tidy
after=$(fingerprint)
if [ "$before" != "$after" ]; then
  echo "verify: generated files were stale and have been regenerated; review and commit:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^>' | awk '{print "  " $3}' >&2
  exit 1
fi
echo "verify: CRDs, RBAC, deepcopy, go.mod and go.sum follow from the sources"

#!/usr/bin/env bash
# Installs what a single-node cluster (hack/cluster) needs from Debian when it is missing:
# containerd, runc, the CNI plugins (bridge, host-local, loopback), iptables, conntrack, iproute2.
# Their services are not started: hack/cluster runs its own containerd with its own state.
#
#   hack/cluster-deps.sh          # install what is missing (root)
#   hack/cluster-deps.sh --check  # exit 0 only if this machine can run the cluster
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
missing=()
have containerd || missing+=(containerd)
have runc || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || missing+=(containernetworking-plugins)
have iptables || missing+=(iptables)
have conntrack || missing+=(conntrack)
have ip || missing+=(iproute2)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)

if [ "${1:-}" = --check ]; then
  if [ "$(id -u)" != 0 ]; then echo "cluster-deps: not root: no cluster here" >&2; exit 1; fi
  if [ ! -d /sys/fs/cgroup ]; then echo "cluster-deps: no cgroup filesystem: no cluster here" >&2; exit 1; fi
  if [ ${#missing[@]} -gt 0 ] && ! command -v apt-get >/dev/null 2>&1; then
    echo "cluster-deps: ${missing[*]} missing and no apt-get: no cluster here" >&2; exit 1
  fi
  # Root is not always enough (a container without CAP_NET_ADMIN, say): try what the cluster does.
  if have ip; then
    probe=tenantops-probe
    if ! ip link add "$probe" type bridge 2>/dev/null; then
      echo "cluster-deps: cannot create a network bridge here: no cluster here" >&2; exit 1
    fi
    ip link del "$probe"
  fi
  if have iptables && ! iptables -w -t nat -S >/dev/null 2>&1; then
    echo "cluster-deps: iptables cannot read the nat table here: no cluster here" >&2; exit 1
  fi
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" cluster-deps "${missing[@]}"

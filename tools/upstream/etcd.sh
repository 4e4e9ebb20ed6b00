#!/usr/bin/env bash
# etcd server for the kube-apiserver used in e2e tests. v3.6.5 is what Kubernetes
# v1.34.8 itself uses (build/dependencies.yaml "etcd", kubeadm DefaultEtcdVersion).
# Prints the binary path as the last stdout line.
#   ETCD=$(bash tools/upstream/etcd.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ETCD_VERSION="${ISTIO_FED_ETCD_VERSION:-v3.6.5}"

# etcd's server/go.mod replaces its sibling modules with ../api etc.; outside the
# etcd repository they are the published modules of the same release. Replaces
# to ./FORBIDDEN_DEPENDENCY only guard against unwanted imports: dropped.
etcd_local_replace() {
  local old="$1" new="$2"
  case "$new" in
    *FORBIDDEN_DEPENDENCY*) return 0 ;;
  esac
  case "$old" in
    go.etcd.io/etcd/*) printf '%s@%s\n' "$old" "$ETCD_VERSION" ;;
    *) upstream_die "unexpected local replace in etcd: $old => $new" ;;
  esac
}

build_etcd() {
  local out="$1" work="$2"
  upstream_wrapper_init "$work" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" etcd_local_replace
  # The module root is package main (server/main.go -> etcdmain.Main). Upstream
  # (scripts/build_lib.sh) builds with CGO_ENABLED=0 and sets only the git SHA,
  # which a module download does not know: left at etcd's default text.
  upstream_go_build "$work" "$out" go.etcd.io/etcd/server/v3 "-s -w"
}

upstream_ensure etcd "$ETCD_VERSION" 3 build_etcd

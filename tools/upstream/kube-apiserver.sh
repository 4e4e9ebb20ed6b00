#!/usr/bin/env bash
# kube-apiserver from k8s.io/kubernetes, for the e2e suite (ValidatingAdmissionPolicy
# is GA since 1.30). v1.34.9: the 1.34 line addon-operator v1.23.0's client-go
# (v0.34.8) belongs to; v1.34.8 itself cannot be built from the module proxy
# reachable here (it refuses k8s.io/externaljwt v0.34.8, which kube-apiserver
# imports), v1.34.9 can.
# Prints the binary path as the last stdout line.
#   KUBE_APISERVER=$(bash tools/upstream/kube-apiserver.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBE_VERSION="${ISTIO_FED_KUBE_VERSION:-v1.34.9}"
# k8s.io/kubernetes vX.Y.Z publishes its staging modules (k8s.io/api, ...) as v0.Y.Z.
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"

# k8s.io/kubernetes' go.mod requires every staging module at v0.0.0 and replaces
# it with ./staging/src/k8s.io/<name>; outside that repository each one is the
# published module of the same release. The list comes from the go.mod itself.
kube_local_replace() {
  local old="$1" new="$2"
  case "$new" in
    ./staging/src/"$old") printf '%s@%s\n' "$old" "$STAGING_VERSION" ;;
    *) upstream_die "unexpected local replace in k8s.io/kubernetes: $old => $new" ;;
  esac
}

build_kube_apiserver() {
  local out="$1" work="$2" json commit date major minor ld="-s -w"
  upstream_wrapper_init "$work" k8s.io/kubernetes "$KUBE_VERSION" kube_local_replace
  # Version stamping as hack/lib/version.sh does it (kube-apiserver --version,
  # /version, and the binary version used for emulation/compatibility).
  json="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION")"
  commit="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]*\)",\{0,1\}$/\1/p' | head -n1)"
  date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')")"
  major="${KUBE_VERSION#v}"; major="${major%%.*}"
  minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld="$ld -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld="$ld -X $pkg.gitTreeState=archive -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
    if [[ -n "$commit" ]]; then ld="$ld -X $pkg.gitCommit=$commit"; fi
  done
  # Upstream builds kube-apiserver static (CGO_ENABLED=0), no build tags.
  upstream_go_build "$work" "$out" k8s.io/kubernetes/cmd/kube-apiserver "$ld"
}

upstream_ensure kube-apiserver "$KUBE_VERSION" 15 build_kube_apiserver

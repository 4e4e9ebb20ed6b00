#!/usr/bin/env bash
# Helm 3, the version addon-operator v1.23.0 embeds (helm.sh/helm/v3 v3.19.5).
# Prints the binary path as the last stdout line.
#   HELM=$(bash tools/upstream/helm.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${ISTIO_FED_HELM_VERSION:-v3.19.5}"

build_helm() {
  local out="$1" work="$2" cgo major minor
  upstream_wrapper_init "$work" helm.sh/helm/v3 "$HELM_VERSION"
  # Mirror helm's Makefile: CGO_ENABLED=0, -trimpath, -w -s, version via -X, and
  # the default Kubernetes version for .Capabilities.KubeVersion (client-go 0.X.Y
  # -> 1.X) which `helm template` uses when no cluster is asked.
  cgo="$(cd "$work" && go list -m -f '{{.Version}}' k8s.io/client-go)"   # v0.34.2
  cgo="${cgo#v}"
  major=$(( ${cgo%%.*} + 1 ))
  minor="${cgo#*.}"; minor="${minor%%.*}"
  upstream_go_build "$work" "$out" helm.sh/helm/v3/cmd/helm "-s -w \
 -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
}

upstream_ensure helm "$HELM_VERSION" 4 build_helm

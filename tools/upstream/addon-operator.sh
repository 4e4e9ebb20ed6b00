#!/usr/bin/env bash
# addon-operator (github.com/flant/addon-operator v1.23.0), the engine that runs
# our module's hooks and Helm chart in the e2e suite. Prints the binary path as
# the last stdout line.
#   ADDON_OPERATOR=$(bash tools/upstream/addon-operator.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADDON_OPERATOR_VERSION="${ISTIO_FED_ADDON_OPERATOR_VERSION:-v1.23.0}"

build_addon_operator() {
  local out="$1" work="$2" shellop
  # Its go.mod replaces go-openapi/swag and docker/cli; `go install ...@version`
  # refuses such modules, so build through a wrapper that copies ALL replaces.
  upstream_wrapper_init "$work" github.com/flant/addon-operator "$ADDON_OPERATOR_VERSION"
  # Three dependency versions of v1.23.0 are refused by the module proxy reachable
  # here (403 "This module version is not available"). Substitutes, only applied
  # while the wanted version stays unavailable: the closest published versions
  # that compile against addon-operator v1.23.0 / shell-operator / nelm.
  upstream_substitute_if_unavailable "$work" github.com/flant/kube-client v1.9.0 v1.9.1 \
    "next patch release"
  upstream_substitute_if_unavailable "$work" github.com/deckhouse/module-sdk v0.11.1 v0.10.0 \
    "newest available below; has every batch-hook config field addon-operator reads"
  upstream_substitute_if_unavailable "$work" github.com/werf/kubedog \
    v0.13.1-0.20260616105957-2c00b08fb99e v0.13.1-0.20260217150136-ed58edf34eac \
    "older commit on the same branch (nelm's tracker)"
  shellop="$(cd "$work" && go list -m -f '{{.Version}}' github.com/flant/shell-operator)"
  # Upstream Dockerfile: go build -ldflags="-linkmode external -extldflags '-static'
  # -s -w -X shell-operator/pkg/app.Version=... -X addon-operator/pkg/app.Version=..."
  # with musl gcc. cgo there only serves the static link (no package of the build
  # has cgo files; jq is gojq), so CGO_ENABLED=0 gives the same static binary.
  upstream_go_build "$work" "$out" github.com/flant/addon-operator/cmd/addon-operator "-s -w \
 -X github.com/flant/shell-operator/pkg/app.Version=$shellop \
 -X github.com/flant/addon-operator/pkg/app.Version=$ADDON_OPERATOR_VERSION"
}

upstream_ensure addon-operator "$ADDON_OPERATOR_VERSION" 10 build_addon_operator

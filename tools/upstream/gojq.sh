#!/usr/bin/env bash
# gojq, the jq engine addon-operator/shell-operator use for jqFilter (the version
# addon-operator v1.23.0 pins). Prints the binary path as the last stdout line.
#   GOJQ=$(bash tools/upstream/gojq.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOJQ_VERSION="${ISTIO_FED_GOJQ_VERSION:-v0.12.17}"

build_gojq() {
  local out="$1" work="$2"
  upstream_wrapper_init "$work" github.com/itchyny/gojq "$GOJQ_VERSION"
  # Upstream Makefile: -s -w -X .../cli.revision=<git rev>; the version itself is
  # a const, the revision (unknown for a module download) stays "HEAD".
  upstream_go_build "$work" "$out" github.com/itchyny/gojq/cmd/gojq "-s -w"
}

upstream_ensure gojq "$GOJQ_VERSION" 1 build_gojq

#!/usr/bin/env bash
# promtool, Prometheus' own rule checker: `promtool check rules` parses and type-checks
# the module's alerting rules, `promtool test rules` runs them over synthetic series.
# Prints the binary path as the last stdout line.
#   PROMTOOL=$(bash tools/upstream/promtool.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Prometheus v3.x is published to the Go module proxy as v0.3xx.y.
PROMTOOL_VERSION="${ISTIO_FED_PROMTOOL_VERSION:-v0.316.0}"

build_promtool() {
  local out="$1" work="$2"
  upstream_wrapper_init "$work" github.com/prometheus/prometheus "$PROMTOOL_VERSION"
  upstream_go_build "$work" "$out" github.com/prometheus/prometheus/cmd/promtool "-s -w"
}

upstream_ensure promtool "$PROMTOOL_VERSION" 5 build_promtool

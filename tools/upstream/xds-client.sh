#!/usr/bin/env bash
# Our small xDS test client (tools/xds-client: Go, go-control-plane and istio.io/api at
# the versions istiod itself is built with). Not upstream code, but built and cached
# exactly like the upstream tools: keyed by a hash of its sources, so an edit builds a
# new binary and an unchanged checkout costs nothing.
# Prints the binary path as the last stdout line.
#   XDS_CLIENT=$(bash tools/upstream/xds-client.sh)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

XDS_CLIENT_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../xds-client" && pwd)"
# The version is the content of the sources (go.mod, go.sum, *.go), not a git commit:
# uncommitted edits get their own build.
XDS_CLIENT_VERSION="src-$(cd "$XDS_CLIENT_SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)"

build_xds_client() {
  local out="$1" work="$2"
  # Build from a copy, so the checkout is never written to (go.sum stays as committed).
  rm -rf "$work"
  mkdir -p "$work"
  cp "$XDS_CLIENT_SRC"/go.mod "$XDS_CLIENT_SRC"/go.sum "$XDS_CLIENT_SRC"/*.go "$work/"
  upstream_go_build "$work" "$out" . "-s -w"
}

upstream_ensure xds-client "$XDS_CLIENT_VERSION" 2 build_xds_client

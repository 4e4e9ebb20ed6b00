#!/usr/bin/env bash
# istiod (pilot-discovery) of the Istio 1.31 line, run by the e2e tests against a
# loopback kube-apiserver (see /work/shared/ISTIOD.md and tools/e2e/istiod.ts).
# Prints the binary path as the last stdout line.
#   ISTIOD=$(bash tools/upstream/istiod.sh)
#
# Why this version: the newest istio.io/istio pseudo-version whose whole build list
# the module proxy here serves (release-1.30 pseudo-versions pin dependency
# versions the proxy refuses with 403). Istio tags no Go module versions, so a
# pseudo-version of the master branch (1.31 line) it is. It runs fine on Istio
# 1.30.3's CRDs (crds/istio-1.30.3-crds.yaml).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ISTIOD_VERSION="${ISTIO_FED_ISTIOD_VERSION:-v0.0.0-20260827124520-eed52ebb66ad}"
# What istiod reports as its own version (pkg/version): the line of the pinned
# commit, as Istio's Makefile names a master build (VERSION ?= 1.31-dev).
ISTIOD_REPORTED_VERSION="${ISTIO_FED_ISTIOD_REPORTED_VERSION:-1.31-dev}"

build_istiod() {
  local out="$1" work="$2" rev
  upstream_wrapper_init "$work" istio.io/istio "$ISTIOD_VERSION"
  # The commit is the last part of the pseudo-version (12 hex digits).
  rev="${ISTIOD_VERSION##*-}"
  # Istio's common/scripts/report_build_info.sh stamps these pkg/version fields;
  # its release build is CGO_ENABLED=0, -trimpath, no tags for pilot-discovery.
  upstream_go_build "$work" "$out" istio.io/istio/pilot/cmd/pilot-discovery "-s -w \
 -X istio.io/istio/pkg/version.buildVersion=$ISTIOD_REPORTED_VERSION \
 -X istio.io/istio/pkg/version.buildGitRevision=$rev \
 -X istio.io/istio/pkg/version.buildStatus=Clean \
 -X istio.io/istio/pkg/version.buildTag=$ISTIOD_VERSION \
 -X istio.io/istio/pkg/version.buildHub=module-proxy"
}

upstream_ensure pilot-discovery "$ISTIOD_VERSION" 15 build_istiod

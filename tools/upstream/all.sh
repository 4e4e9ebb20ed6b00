#!/usr/bin/env bash
# Builds (first time) or finds (afterwards) every upstream tool the tests need and
# prints one shell assignment per tool on stdout, e.g.
#   GOJQ=/root/.cache/istio-federation-tools/gojq-v0.12.17/bin/gojq
# so a caller can do:  eval "$(bash tools/upstream/all.sh)"
# Tools are built one after another: each `go build` already uses every core.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

declare -a names=(GOJQ ETCD KUBE_APISERVER HELM ADDON_OPERATOR ISTIOD XDS_CLIENT PROMTOOL)
declare -a scripts=(gojq.sh etcd.sh kube-apiserver.sh helm.sh addon-operator.sh istiod.sh xds-client.sh promtool.sh)
declare -a lines=()
for i in "${!names[@]}"; do
  path="$(bash "$here/${scripts[$i]}" | tail -n 1)"
  [[ -x "$path" ]] || { echo "[tools] ERROR: ${scripts[$i]} gave no binary" >&2; exit 1; }
  lines+=("$(printf '%s=%q' "${names[$i]}" "$path")")
done
printf '%s\n' "${lines[@]}"

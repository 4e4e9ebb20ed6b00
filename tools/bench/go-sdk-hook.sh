#!/usr/bin/env bash
# A Go batch-hook binary built from deckhouse/module-sdk with ONE trivial hook: the
# baseline the hook-start benchmark compares our executable with. Built into the tools
# cache (never the repo). Prints the binary path as the last stdout line.
#   GO_SDK_HOOK=$(bash tools/bench/go-sdk-hook.sh)
set -euo pipefail
# shellcheck source=../upstream/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../upstream/lib.sh"

# v0.11.x (what addon-operator v1.23.0 requires) is refused by the module proxy here.
MODULE_SDK_VERSION="${ISTIO_FED_MODULE_SDK_VERSION:-v0.10.0}"

build_go_sdk_hook() {
  local out="$1" work="$2"
  upstream_wrapper_init "$work" github.com/deckhouse/module-sdk "$MODULE_SDK_VERSION"
  # module-sdk derives a hook's name from its source path, which must contain /hooks/.
  mkdir -p "$work/hooks"
  cat > "$work/hooks/trivial.go" <<'GO'
package hooks

import (
	"context"

	"github.com/deckhouse/module-sdk/pkg"
	"github.com/deckhouse/module-sdk/pkg/registry"
)

var _ = registry.RegisterFunc(&pkg.HookConfig{OnBeforeHelm: &pkg.OrderedConfig{Order: 10}}, handle)

func handle(_ context.Context, input *pkg.HookInput) error {
	input.Values.Set("istio.internal.benchmark", true)
	return nil
}
GO
  cat > "$work/main.go" <<'GO'
package main

import (
	"github.com/deckhouse/module-sdk/pkg/app"

	_ "istio-federation-tools/wrapper/hooks"
)

func main() { app.Run() }
GO
  (cd "$work" && go mod tidy >&2)
  upstream_go_build "$work" "$out" . "-s -w"
}

upstream_ensure go-sdk-hook "$MODULE_SDK_VERSION" 3 build_go_sdk_hook

# shellcheck shell=bash
# Shared logic for tools/upstream/*.sh: build pinned upstream tools from the Go
# module proxy into a per-user cache OUTSIDE the repository, keyed by version.
#
#   cache root : ${ISTIO_FED_TOOLS_CACHE:-$HOME/.cache/istio-federation-tools}
#   binary     : <cache>/<tool>-<version>/bin/<tool>   (+ BUILDINFO next to bin/)
#   wrappers   : <cache>/.wrappers/<tool>-<version>/    (generated go.mod and go.sum)
#
# Contract of every tool script: progress goes to stderr, the LAST line on stdout
# is the absolute path of the binary. A second run costs nothing (prints the path).
# A build goes into a temp directory that is renamed into place only when the
# binary is complete, so an interrupted build never looks done.
#
# Environment:
#   ISTIO_FED_TOOLS_CACHE     cache root (see above)
#   ISTIO_FED_TOOLS_NO_BUILD  if 1: never build; fail (exit 3) when a tool is missing
#   GOPROXY                   honoured if set (default: the go command's default)
#
# This file is sourced, not executed.

set -euo pipefail

UPSTREAM_CACHE="${ISTIO_FED_TOOLS_CACHE:-${HOME:?HOME is not set}/.cache/istio-federation-tools}"
if [[ "$UPSTREAM_CACHE" != /* ]]; then UPSTREAM_CACHE="$PWD/$UPSTREAM_CACHE"; fi   # paths we print are absolute

# Go settings for every build: module mode, the checksum DB does not know every
# module we need (addon-operator), never auto-download a toolchain, ignore any
# go.work around the cache.
export GO111MODULE=on
export GOSUMDB=off
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export GOWORK=off

upstream_log() { printf '[tools] %s\n' "$*" >&2; }
upstream_die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

upstream_require_go() {
  if ! command -v go >/dev/null 2>&1; then
    if [[ -x /usr/local/go/bin/go ]]; then
      export PATH="/usr/local/go/bin:$PATH"
    else
      upstream_die "the go command is needed to build upstream tools (not found on PATH)"
    fi
  fi
}

# upstream_bin_path TOOL VERSION -> absolute path the binary has once built
upstream_bin_path() {
  printf '%s/%s-%s/bin/%s\n' "$UPSTREAM_CACHE" "$1" "$2" "$1"
}

# upstream_module_dir MODULE VERSION -> directory of the extracted module in
# GOMODCACHE (downloads it if needed). Output: the directory on stdout.
upstream_module_dir() {
  local json dir
  json="$(go mod download -json "$1@$2")" || upstream_die "cannot download $1@$2 from the module proxy"
  dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -f "$dir/go.mod" ]] || upstream_die "no module directory for $1@$2: $json"
  printf '%s\n' "$dir"
}

# upstream_gomod_replaces GOMOD -> one line per replace directive of that go.mod:
#   OLD_PATH OLD_VERSION NEW_PATH NEW_VERSION   ("-" where a version is absent)
# Parsed from `go mod edit -json`, so both the block and the one-line form work.
upstream_gomod_replaces() {
  go mod edit -json "$1" | awk '
    function val(s) { sub(/^[^:]*: "/, "", s); sub(/",?$/, "", s); return s }
    /^\t"Replace": \[/            { inrep = 1; next }
    inrep && /^\t\],?$/           { inrep = 0; next }
    inrep && /^\t\t\t"Old": \{/   { side = "old"; next }
    inrep && /^\t\t\t"New": \{/   { side = "new"; next }
    inrep && /"Path": /           { if (side == "old") op = val($0); else np = val($0); next }
    inrep && /"Version": /        { if (side == "old") ov = val($0); else nv = val($0); next }
    inrep && /^\t\t\},?$/         { print op, (ov == "" ? "-" : ov), np, (nv == "" ? "-" : nv)
                                    op = ov = np = nv = side = "" }
  '
}

# upstream_gomod_field GOMOD FIELD -> "Go" version or the GoDebug "key=value" lines
upstream_gomod_go() {
  go mod edit -json "$1" | sed -n 's/^\t"Go": "\(.*\)",\{0,1\}$/\1/p'
}
upstream_gomod_godebug() {
  go mod edit -json "$1" | awk '
    function val(s) { sub(/^[^:]*: "/, "", s); sub(/",?$/, "", s); return s }
    /^\t"GoDebug": \[/   { in_gd = 1; next }
    in_gd && /^\t\],?$/  { in_gd = 0; next }
    in_gd && /"Key": /   { k = val($0); next }
    in_gd && /"Value": / { print k "=" val($0); next }
  '
}

# upstream_wrapper_init WORKDIR MODULE VERSION [LOCAL_MAPPER]
# Creates WORKDIR/go.mod: a throw-away main module that requires MODULE@VERSION and
# carries over what only a main module's go.mod can say: ALL replace directives
# (a dependency's replaces are ignored by Go), its go version and godebug defaults.
# Replaces that point to a local path (./staging/..., ../api) cannot work outside
# the upstream repository; for each, LOCAL_MAPPER (a shell function) is called as
# `LOCAL_MAPPER OLD_PATH NEW_PATH` and prints "PATH@VERSION" to use instead, or
# nothing to drop the replace. Without a mapper, a local replace is an error.
upstream_wrapper_init() {
  local work="$1" module="$2" version="$3" mapper="${4:-}"
  local moddir gomod gover godebugs replaces line op ov np nv target
  moddir="$(upstream_module_dir "$module" "$version")"
  gomod="$moddir/go.mod"
  gover="$(upstream_gomod_go "$gomod")"
  godebugs="$(upstream_gomod_godebug "$gomod")"
  replaces="$(upstream_gomod_replaces "$gomod")"
  rm -rf "$work"
  mkdir -p "$work"
  (
    cd "$work"
    go mod init istio-federation-tools/wrapper 2>/dev/null
    if [[ -n "$gover" ]]; then go mod edit -go="$gover"; fi
    while IFS= read -r line; do
      if [[ -n "$line" ]]; then go mod edit -godebug="$line"; fi
    done <<< "$godebugs"
    go mod edit -require="$module@$version"
    while read -r op ov np nv; do
      if [[ -z "$op" ]]; then continue; fi
      if [[ "$nv" == "-" && ( "$np" == ./* || "$np" == ../* || "$np" == /* ) ]]; then
        if [[ -z "$mapper" ]]; then
          upstream_die "$module@$version has a local replace $op => $np and no mapper was given"
        fi
        target="$("$mapper" "$op" "$np")"
        if [[ -z "$target" ]]; then continue; fi
      elif [[ "$nv" == "-" ]]; then
        target="$np"
      else
        target="$np@$nv"
      fi
      if [[ "$ov" == "-" ]]; then
        go mod edit -replace="$op=$target"
      else
        go mod edit -replace="$op@$ov=$target"
      fi
    done <<< "$replaces"
    echo "[tools] wrapper module $work/go.mod:"
    sed 's/^/[tools]   /' go.mod
  )
}

# upstream_substitute_if_unavailable WORKDIR MODULE WANTED_VERSION SUBSTITUTE_VERSION WHY
# The module proxy reachable here refuses some module versions ("403 Forbidden:
# This module version is not available"). If MODULE@WANTED_VERSION cannot be
# downloaded, replace exactly that version by SUBSTITUTE_VERSION (and say so on
# stderr and in WORKDIR/SUBSTITUTIONS, which BUILDINFO copies). If it can be
# downloaded, nothing changes, so the exact upstream build list is used.
upstream_substitute_if_unavailable() {
  local work="$1" module="$2" want="$3" subst="$4" why="$5"
  if go mod download "$module@$want" >/dev/null 2>&1; then
    return 0
  fi
  go mod download "$module@$subst" >/dev/null 2>&1 \
    || upstream_die "$module: neither $want nor the substitute $subst can be downloaded"
  (cd "$work" && go mod edit -replace="$module@$want=$module@$subst")
  echo "$module $want => $subst ($why)" >> "$work/SUBSTITUTIONS"
  upstream_log "WARNING: $module@$want is not available from the module proxy; using $subst ($why)"
}

# upstream_go_build WORKDIR OUT PACKAGE LDFLAGS [TAGS]
# Builds PACKAGE inside the wrapper module WORKDIR into OUT (static, trimmed).
upstream_go_build() {
  local work="$1" out="$2" pkg="$3" ldflags="$4" tags="${5:-}"
  local -a args=(build -trimpath -o "$out" -ldflags="$ldflags")
  [[ -n "$tags" ]] && args+=(-tags="$tags")
  (cd "$work" && CGO_ENABLED="${CGO_ENABLED:-0}" go "${args[@]}" "$pkg")
}

# upstream_ensure TOOL VERSION APPROX_MINUTES BUILD_FUNCTION
# Prints the binary path (last stdout line). Builds it first if missing: calls
# `BUILD_FUNCTION OUT_BINARY WRAPPER_DIR` (its stdout goes to stderr), under a lock
# per tool+version, into a temp dir that is renamed into place when complete.
# BUILD_FUNCTION runs with `set -e` in force (it is not called in a condition).
_UPSTREAM_TMP=""
_UPSTREAM_HB=""
_UPSTREAM_WHAT=""
_upstream_cleanup() {
  local rc=$?
  if [[ -n "$_UPSTREAM_HB" ]]; then kill "$_UPSTREAM_HB" 2>/dev/null || true; fi
  if [[ -n "$_UPSTREAM_TMP" ]]; then
    rm -rf "$_UPSTREAM_TMP"
    upstream_log "building $_UPSTREAM_WHAT failed or was interrupted (exit $rc); nothing was installed"
  fi
}
upstream_ensure() {
  local tool="$1" version="$2" approx="$3" build_fn="$4"
  local final bin lockfd start secs size wrapdir
  final="$UPSTREAM_CACHE/$tool-$version"
  bin="$final/bin/$tool"
  if [[ -x "$bin" ]]; then
    printf '%s\n' "$bin"
    return 0
  fi
  if [[ "${ISTIO_FED_TOOLS_NO_BUILD:-0}" == 1 ]]; then
    upstream_log "$tool $version is not built ($bin missing) and ISTIO_FED_TOOLS_NO_BUILD=1"
    exit 3
  fi
  upstream_require_go
  mkdir -p "$UPSTREAM_CACHE"
  # One builder per tool+version at a time; the others wait and then reuse.
  exec {lockfd}>"$UPSTREAM_CACHE/.lock-$tool-$version"
  if ! flock -n "$lockfd"; then
    upstream_log "waiting for another build of $tool $version to finish..."
    flock "$lockfd"
  fi
  if [[ -x "$bin" ]]; then
    exec {lockfd}>&-
    printf '%s\n' "$bin"
    return 0
  fi
  # Leftovers of a build that was killed hard (SIGKILL, power loss): only the
  # lock holder builds this tool+version, so they are safe to remove now.
  rm -rf "$UPSTREAM_CACHE/.tmp-$tool-$version."*
  upstream_log "building $tool $version (first time, ~$approx min) into $final ..."
  _UPSTREAM_WHAT="$tool $version"
  _UPSTREAM_TMP="$(mktemp -d "$UPSTREAM_CACHE/.tmp-$tool-$version.XXXXXX")"
  trap _upstream_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  mkdir -p "$_UPSTREAM_TMP/bin"
  start=$(date +%s)
  # Heartbeat so a long first build does not look hung. It must not hold the
  # lock or our stdout (callers read it through $(...)).
  (
    exec {lockfd}>&-
    s=""
    trap 'kill $s 2>/dev/null; exit 0' TERM
    while :; do
      sleep 60 & s=$!
      wait "$s"
      upstream_log "... still building $tool $version ($(( $(date +%s) - start ))s)"
    done
  ) </dev/null >/dev/null &
  _UPSTREAM_HB=$!
  wrapdir="$UPSTREAM_CACHE/.wrappers/$tool-$version"
  "$build_fn" "$_UPSTREAM_TMP/bin/$tool" "$wrapdir" >&2
  [[ -x "$_UPSTREAM_TMP/bin/$tool" ]] || upstream_die "build of $tool $version produced no binary"
  secs=$(( $(date +%s) - start ))
  size=$(stat -c %s "$_UPSTREAM_TMP/bin/$tool")
  {
    echo "tool=$tool"
    echo "version=$version"
    echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=$secs"
    echo "size_bytes=$size"
    echo "go=$(go env GOVERSION)"
    echo "wrapper=$wrapdir"
    if [[ -s "$wrapdir/SUBSTITUTIONS" ]]; then
      echo "--- substituted dependency versions (wanted one not available from the proxy)"
      cat "$wrapdir/SUBSTITUTIONS"
    fi
    echo "--- go version -m (head)"
    go version -m "$_UPSTREAM_TMP/bin/$tool" 2>/dev/null | sed "s#^$_UPSTREAM_TMP/#$final/#" | head -n 30 || true
  } > "$_UPSTREAM_TMP/BUILDINFO"
  kill "$_UPSTREAM_HB" 2>/dev/null || true
  _UPSTREAM_HB=""
  if [[ -e "$final" ]]; then rm -rf "$final"; fi   # a damaged leftover without a binary
  mv -T "$_UPSTREAM_TMP" "$final"
  _UPSTREAM_TMP=""
  trap - EXIT INT TERM HUP
  exec {lockfd}>&-
  upstream_log "built $tool $version in ${secs}s ($(( size / 1024 / 1024 )) MiB)"
  printf '%s\n' "$bin"
}

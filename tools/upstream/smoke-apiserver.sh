#!/usr/bin/env bash
# Smoke test of the cached etcd + kube-apiserver pair: starts both on 127.0.0.1
# (random free ports, temp dir), checks the API over TLS with curl, including a
# ValidatingAdmissionPolicy that really denies, then stops everything it started
# and removes the temp dir. No traffic to anything but 127.0.0.1.
#
#   bash tools/upstream/smoke-apiserver.sh          # builds the tools first if needed
#   KUBE_APISERVER=... ETCD=... bash tools/upstream/smoke-apiserver.sh
#
# Progress on stderr; the last stdout line is "ok ..." on success. Exit code != 0
# on failure, with the tail of both logs on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[smoke] %s\n' "$*" >&2; }
die() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }

KUBE_APISERVER="${KUBE_APISERVER:-$(bash "$here/kube-apiserver.sh" | tail -n 1)}"
ETCD="${ETCD:-$(bash "$here/etcd.sh" | tail -n 1)}"
[[ -x "$KUBE_APISERVER" ]] || die "no kube-apiserver binary: $KUBE_APISERVER"
[[ -x "$ETCD" ]] || die "no etcd binary: $ETCD"
for c in curl openssl; do command -v "$c" >/dev/null || die "$c is needed"; done

READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-90}"   # seconds, for each of etcd and kube-apiserver

tmp="$(mktemp -d "${TMPDIR:-/tmp}/apiserver-smoke.XXXXXX")"
declare -a pids=()
ok=0

cleanup() {
  local rc=$? pid i deadline
  trap - EXIT INT TERM
  # Stop what we started, newest first (kube-apiserver before etcd).
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    pid="${pids[$i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    deadline=$(( $(date +%s) + 15 ))
    while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if (( ok == 0 )); then
    for f in etcd.log kube-apiserver.log; do
      if [[ -s "$tmp/$f" ]]; then
        log "---- last lines of $f"
        tail -n 25 "$tmp/$f" | sed 's/^/[smoke]   /' >&2
      fi
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Children: never through a proxy, whatever the caller's environment says. `env`
# execs the program, so "$!" after "${run_local[@]}" prog ... & is prog's own pid.
# shellcheck disable=SC2054  # the commas are inside NO_PROXY values
run_local=(env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u ALL_PROXY -u all_proxy
           NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)

declare -A taken=()
etcd_port="" peer_port="" api_port=""
# free_port VAR: a random port in 20000-59999 that nothing listens on now (and
# that we did not pick before) into VAR.
free_port() {
  local -n _port="$1"
  local p n
  for (( n=0; n<200; n++ )); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    [[ -n "${taken[$p]:-}" ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      taken[$p]=1
      _port="$p"
      return 0
    fi
  done
  die "no free port found"
}

# wait_until DESCRIPTION PID TIMEOUT COMMAND...: poll COMMAND until it succeeds,
# failing when PID dies or the deadline passes.
wait_until() {
  local what="$1" pid="$2" timeout="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { log "$what: process $pid exited"; return 1; }
    (( $(date +%s) < deadline )) || { log "$what: not ready after ${timeout}s"; return 1; }
    sleep 0.5
  done
}

# ---------------------------------------------------------------- credentials
log "generating CA, serving cert and service-account keys in $tmp"
(
  cd "$tmp"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
    -subj "/CN=smoke-apiserver-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" > serving.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 1 -extfile serving.ext
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
) >/dev/null 2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; die "openssl failed"; }
token="$(openssl rand -hex 32)"
printf '%s,smoke-admin,smoke-admin-uid,system:masters\n' "$token" > "$tmp/tokens.csv"
printf 'Authorization: Bearer %s\n' "$token" > "$tmp/auth-header"
chmod 600 "$tmp/tokens.csv" "$tmp/auth-header" "$tmp"/*.key

# ---------------------------------------------------------------- etcd
start_etcd() {
  free_port etcd_port; free_port peer_port
  rm -rf "$tmp/etcd"
  "${run_local[@]}" "$ETCD" --name smoke --data-dir "$tmp/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "smoke=http://127.0.0.1:$peer_port" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn > "$tmp/etcd.log" 2>&1 &
  etcd_pid=$!
  pids+=("$etcd_pid")
}
etcd_healthy() { curl --noproxy '*' -fsS --max-time 2 "http://127.0.0.1:$etcd_port/health" | grep -q '"health":"true"'; }

t0=$(date +%s)
for attempt in 1 2 3; do
  start_etcd
  log "etcd $("$ETCD" --version | sed -n 's/^etcd Version: //p') on 127.0.0.1:$etcd_port (attempt $attempt)"
  if wait_until etcd "$etcd_pid" "$READY_TIMEOUT" etcd_healthy; then break; fi
  if (( attempt < 3 )) && grep -q 'address already in use' "$tmp/etcd.log"; then
    log "port race, retrying with other ports"; continue
  fi
  die "etcd did not become healthy"
done
log "etcd healthy after $(( $(date +%s) - t0 ))s"

# ---------------------------------------------------------------- kube-apiserver
start_apiserver() {
  free_port api_port
  apiserver_flags=(
    --etcd-servers="http://127.0.0.1:$etcd_port"
    --bind-address=127.0.0.1
    --advertise-address=127.0.0.1
    --secure-port="$api_port"
    --tls-cert-file="$tmp/apiserver.crt"
    --tls-private-key-file="$tmp/apiserver.key"
    --cert-dir="$tmp/certs"
    --service-account-issuer=https://kubernetes.default.svc.cluster.local
    --service-account-key-file="$tmp/sa.pub"
    --service-account-signing-key-file="$tmp/sa.key"
    --token-auth-file="$tmp/tokens.csv"
    --authorization-mode=RBAC
    --service-cluster-ip-range=10.0.0.0/24
    --disable-admission-plugins=ServiceAccount
    # The "kubernetes" Service cannot have a loopback endpoint (Endpoints
    # validation refuses 127.0.0.0/8 and logs an error every 10s): skip it.
    --endpoint-reconciler-type=none
  )
  "${run_local[@]}" "$KUBE_APISERVER" "${apiserver_flags[@]}" > "$tmp/kube-apiserver.log" 2>&1 &
  api_pid=$!
  pids+=("$api_pid")
}
api() {  # api METHOD PATH [JSON_BODY] -> body on stdout, HTTP code on the last line
  local method="$1" path="$2" body="${3:-}"
  local -a args=(--noproxy '*' -sS --max-time 10 --cacert "$tmp/ca.crt" -H @"$tmp/auth-header"
                 -X "$method" -w '\n%{http_code}' "https://127.0.0.1:$api_port$path")
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  curl "${args[@]}"
}
apiserver_ready() { [[ "$(api GET /readyz | tail -n 1)" == 200 ]]; }

t0=$(date +%s)
for attempt in 1 2 3; do
  start_apiserver
  log "kube-apiserver $("$KUBE_APISERVER" --version) on https://127.0.0.1:$api_port (attempt $attempt)"
  if wait_until kube-apiserver "$api_pid" "$READY_TIMEOUT" apiserver_ready; then break; fi
  if (( attempt < 3 )) && grep -q 'address already in use' "$tmp/kube-apiserver.log"; then
    log "port race, retrying with another port"; continue
  fi
  die "kube-apiserver did not become ready"
done
log "kube-apiserver ready after $(( $(date +%s) - t0 ))s"

# ---------------------------------------------------------------- checks
# (kube-apiserver pretty-prints JSON for curl's User-Agent: patterns allow spaces.)
expect() {  # expect DESCRIPTION WANTED_CODE ERE_PATTERN METHOD PATH [BODY]
  local what="$1" code="$2" pattern="$3" out got; shift 3
  out="$(api "$@")" || die "$what: curl failed"
  got="$(tail -n 1 <<< "$out")"
  [[ "$got" == "$code" ]] || die "$what: HTTP $got, wanted $code: $(head -c 400 <<< "$out")"
  if [[ -n "$pattern" ]] && ! grep -Eq -- "$pattern" <<< "$out"; then
    die "$what: response lacks $pattern: $(head -c 400 <<< "$out")"
  fi
  log "ok: $what"
}

expect "GET /version" 200 '"gitVersion": *"v1\.[0-9]+\.[0-9]+' GET /version
expect "GET /api/v1/namespaces" 200 '"kind": *"NamespaceList"' GET /api/v1/namespaces
expect "admissionregistration.k8s.io/v1 serves validatingadmissionpolicies" 200 \
  '"name": *"validatingadmissionpolicies"' GET /apis/admissionregistration.k8s.io/v1
expect "admissionregistration.k8s.io/v1 serves validatingadmissionpolicybindings" 200 \
  '"name": *"validatingadmissionpolicybindings"' GET /apis/admissionregistration.k8s.io/v1
code="$(curl --noproxy '*' -sS --max-time 10 --cacert "$tmp/ca.crt" -o /dev/null -w '%{http_code}' \
  "https://127.0.0.1:$api_port/api/v1/namespaces")"
[[ "$code" == 401 || "$code" == 403 ]] || die "anonymous list of namespaces gave HTTP $code"
log "ok: anonymous request refused (HTTP $code)"

# A ValidatingAdmissionPolicy that denies ConfigMaps carrying data.forbidden.
expect "create namespace smoke" 201 '' POST /api/v1/namespaces \
  '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"smoke"}}'
expect "create ValidatingAdmissionPolicy" 201 '' POST \
  /apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies \
  '{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy",
    "metadata":{"name":"smoke-deny-forbidden"},
    "spec":{"failurePolicy":"Fail",
      "matchConstraints":{"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],
        "operations":["CREATE","UPDATE"],"resources":["configmaps"]}]},
      "validations":[{"expression":"!has(object.data) || !(\"forbidden\" in object.data)",
        "message":"smoke: forbidden key"}]}}'
expect "create ValidatingAdmissionPolicyBinding" 201 '' POST \
  /apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings \
  '{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding",
    "metadata":{"name":"smoke-deny-forbidden"},
    "spec":{"policyName":"smoke-deny-forbidden","validationActions":["Deny"],
      "matchResources":{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"smoke"}}}}}'
# The policy takes effect once the admission plugin's informers have seen it: poll.
deadline=$(( $(date +%s) + 30 ))
n=0
while :; do
  n=$(( n + 1 ))
  out="$(api POST /api/v1/namespaces/smoke/configmaps \
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"bad-$n\"},\"data\":{\"forbidden\":\"x\"}}")"
  code="$(tail -n 1 <<< "$out")"
  if [[ "$code" == 422 || "$code" == 403 ]] && grep -q 'smoke: forbidden key' <<< "$out"; then
    break
  fi
  [[ "$code" == 201 ]] || die "unexpected answer to the forbidden ConfigMap: HTTP $code: $(head -c 400 <<< "$out")"
  (( $(date +%s) < deadline )) || die "ValidatingAdmissionPolicy not enforced after 30s"
  sleep 0.5
done
log "ok: ValidatingAdmissionPolicy denies (HTTP $code, attempt $n)"
expect "an allowed ConfigMap is still created" 201 '' POST /api/v1/namespaces/smoke/configmaps \
  '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good"},"data":{"fine":"x"}}'

ok=1
echo "ok: kube-apiserver $("$KUBE_APISERVER" --version | sed 's/^Kubernetes //') with etcd $("$ETCD" --version | sed -n 's/^etcd Version: //p') on 127.0.0.1"

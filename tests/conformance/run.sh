#!/usr/bin/env bash
# Runs the MCP conformance suite's auth scenarios against the built package
# (pkg/, driven by client.mjs), with no expected-failures baseline:
#   1. --suite auth                              (2025-11-25 wire)
#   2. --suite auth --spec-version 2026-07-28    (2026-07-28 wire)
#   3. --suite backcompat                        (2025-03-26 servers)
#   4. every auth scenario introduced in 2026-07-28, one --scenario each
#      (the auth part of --suite draft; single-scenario mode also fails on a
#      non-zero client exit where no rejection is expected)
#   5. the DPoP extension scenarios auth/dpop and auth/dpop-nonce, one each
# On top of the harness's verdict, each scenario's client must end as
# expected: "done" (tools/call succeeded), or, where the scenario expects a
# rejection, a library error with the right code (so a crash cannot pass).
#
# Exit 0 iff everything passed. Does not build pkg/ (`make test` builds
# first). Results are kept only on failure (or in $CONFORMANCE_RESULTS).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

bash "$here/install.sh" >/dev/null
for f in index.js mcp_web_auth.js mcp_web_auth_bg.wasm; do
  [[ -f "$root/pkg/$f" ]] || { echo "conformance: pkg/$f missing; build first (make build)" >&2; exit 1; }
done

cli="$here/.tools/bin/conformance"
out="${CONFORMANCE_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")}"
mkdir -p "$out"
child=""
failed=0
cleanup() {
  local rc=$?
  # The CLI runs under `timeout`, which leads its own process group: TERM
  # reaches the harness and the client processes it spawned.
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [[ $rc -eq 0 && -z "${CONFORMANCE_RESULTS:-}" ]]; then
    rm -rf "$out"
  else
    echo "conformance: results kept in $out" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# How each scenario's client must end: "done", or the code of the library
# error that rejects it.
expected_end() {
  case "$1" in
    auth/scope-retry-limit) echo insufficient_scope ;;
    auth/resource-mismatch) echo resource_mismatch ;;
    auth/iss-supported-missing | auth/iss-wrong-issuer | auth/iss-unexpected | auth/iss-normalized)
      echo issuer_mismatch ;;
    auth/metadata-issuer-mismatch) echo authorization_server_mismatch ;;
    *) echo done ;;
  esac
}

# run LABEL DIR ARGS...: one CLI invocation, bounded in time.
run() {
  local label="$1" dir="$2"
  shift 2
  local rc=0
  timeout -k 5 240 "$cli" client --command "node client.mjs" --timeout 20000 -o "$dir" "$@" \
    >"$dir.log" 2>&1 &
  child=$!
  wait "$child" || rc=$?
  child=""
  return $rc
}

# check_ends DIR: every scenario result in DIR ended as expected_end says.
check_ends() {
  local dir="$1" bad=0 d name want got
  for d in "$dir"/auth/*/; do
    [[ -d "$d" ]] || continue
    name="auth/$(basename "$d" | sed -E 's/-[0-9]{4}-[0-9]{2}-[0-9]{2}T.*$//')"
    want="$(expected_end "$name")"
    if grep -q '^\[client\] done$' "$d/stderr.txt" 2>/dev/null; then
      got=done
    else
      got="$(sed -nE 's/^\[client\] FAILED: [A-Za-z]+ \(([a-z_]+)\):.*/\1/p' "$d/stderr.txt" 2>/dev/null | tail -1)"
      got="${got:-crash}"
    fi
    if [[ "$got" != "$want" ]]; then
      echo "  ✗ $name: client ended '$got', expected '$want' (see $d)"
      tail -3 "$d/stderr.txt" 2>/dev/null | sed 's/^/      /'
      bad=1
    fi
  done
  return $bad
}

suite() {
  local label="$1" dir="$out/$2"
  shift 2
  local rc=0 t0=$SECONDS
  mkdir -p "$dir"
  run "$label" "$dir" "$@" || rc=$?
  local n
  n=$(grep -cE '^[✓✗] auth/' "$dir.log" || true)
  local total
  total=$(grep -E '^Total:' "$dir.log" | tail -1 || true)
  printf '%-40s %2d scenarios  %s  (%ds)\n' "$label" "$n" "${total:-no total}" $((SECONDS - t0))
  grep -E '^✗ ' "$dir.log" | sed 's/^/  /' || true
  if [[ $rc -ne 0 || $n -eq 0 ]]; then
    [[ $rc -eq 124 ]] && echo "  timed out"
    failed=1
  fi
  check_ends "$dir" || failed=1
}

echo "MCP conformance ($(cd "$here/.tools" && node -p 'require("@modelcontextprotocol/conformance/package.json").version' 2>/dev/null || echo '?')) against pkg/"
suite "--suite auth (2025-11-25)" auth-2025 --suite auth
suite "--suite auth (2026-07-28)" auth-2026 --suite auth --spec-version 2026-07-28
suite "--suite backcompat" backcompat --suite backcompat

# Scenarios run one by one with --scenario: LABEL DIR SCENARIO...; each must
# pass, and an empty list fails (a renamed scenario must not pass silently).
scenarios() {
  local label=$1 dir="$out/$2" s pass=0 t0=$SECONDS
  shift 2
  local fails=()
  mkdir -p "$dir"
  for s in "$@"; do
    if run "$s" "$dir/$(basename "$s")" --scenario "$s" && grep -q 'OVERALL: PASSED' "$dir/$(basename "$s").log"; then
      pass=$((pass + 1))
    else
      fails+=("$s")
    fi
    # -o DIR puts results under DIR/auth/; gather them for check_ends.
    mkdir -p "$dir/auth"
    mv "$dir/$(basename "$s")"/auth/* "$dir/auth/" 2>/dev/null || true
  done
  printf '%-40s %2d scenarios  %d passed, %d failed  (%ds)\n' "$label" "$#" "$pass" "${#fails[@]}" $((SECONDS - t0))
  for s in "${fails[@]}"; do
    echo "  ✗ $s"
    grep -E 'FAILURE|WARNING|OVERALL|\[client\] FAILED' "$dir/$(basename "$s").log" | head -5 | sed 's/^/      /'
  done
  if [[ $# -eq 0 || ${#fails[@]} -gt 0 ]]; then failed=1; fi
  check_ends "$dir" || failed=1
}

# The auth scenarios introduced in 2026-07-28 (listed "[2026-07-28]" only;
# extensions are listed otherwise and run below when the library implements them).
mapfile -t draft < <("$cli" list --client | sed -nE 's/^ *- (auth\/[^ ]+) \[2026-07-28\]$/\1/p')
scenarios "draft auth (2026-07-28, --scenario)" draft-auth "${draft[@]}"

# The DPoP extension (io.modelcontextprotocol/auth/dpop, SEP-1932): the
# library uses DPoP automatically when the authorization server offers ES256
# (P-35..P-39). Present in the pinned version.
scenarios "DPoP extension (--scenario)" dpop auth/dpop auth/dpop-nonce

if [[ $failed -ne 0 ]]; then
  echo "conformance: FAILED"
  exit 1
fi
echo "conformance: all auth scenarios passed"

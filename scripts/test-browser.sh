#!/usr/bin/env bash
# Runs the wasm-bindgen browser tests (tests/browser_*.rs) in headless
# Chromium: starts the fixture and helper servers (loopback, random ports),
# hands their addresses to the tests at build time (MCP_FIXTURE_URL,
# MCP_HELPER_URL, read by option_env!), and stops them on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

addresses=$(mktemp)
node tests/fixture/browser-helper.mjs >"$addresses" &
servers=$!
trap 'kill "$servers" 2>/dev/null; wait "$servers" 2>/dev/null; rm -f "$addresses"' EXIT

for _ in $(seq 100); do
  [ -s "$addresses" ] && break
  kill -0 "$servers" 2>/dev/null || { echo "test-browser: the fixture servers did not start" >&2; exit 1; }
  sleep 0.1
done
read -r line <"$addresses"
MCP_FIXTURE_URL=$(node -e 'console.log(JSON.parse(process.argv[1]).fixture)' "$line")
MCP_HELPER_URL=$(node -e 'console.log(JSON.parse(process.argv[1]).helper)' "$line")
export MCP_FIXTURE_URL MCP_HELPER_URL

wasm-pack test --headless --chrome --mode no-install -- --test 'browser_*'

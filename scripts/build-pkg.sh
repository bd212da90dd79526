#!/usr/bin/env bash
# Builds the npm package into pkg/, one line per step: wasm-pack (--target web,
# release, wasm-opt from npm's binaryen; its own progress shows), then the
# package files (the entry js/index.js, its types js/index.d.ts, package.json
# from pkg.json.in, the package README README.npm.md, the licence files), and
# the size report with its budget. A stage whose inputs have not changed since
# the last build is skipped (FORCE=1 rebuilds).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$PATH"

# The package's size, gzip -9 of wasm + JS glue + entry + snippets, is
# printed with every build and may not exceed CEILING: 188,376 bytes measured
# after the rebuild on the ecosystem's crates (issue 8) with hardening, DPoP,
# popup mode and prefetch (issues 9, 11, 12), plus 3 %. Raise it only with a
# measured reason in the commit.
CEILING_GZIP_BYTES=${CEILING_GZIP_BYTES:-194100}
# For comparison: the MCP TypeScript SDK 2.x client auth with its transport,
# bundled and minified for a browser (measured for issue 8).
SDK_GZIP_BYTES=82000

say() { echo "[build] $*"; }

# Skipping work: two stamps in pkg/ hold the sha256 of the inputs of each
# stage. The wasm stage (cargo + wasm-bindgen + wasm-opt, ~50 s cold) reads
# the crate and the JS snippets it links; the package stage (entry, types,
# package.json, README, licences) reads those files. FORCE=1 rebuilds all.
hash_of() { # files... → one sha256 over names and contents
  for f in "$@"; do printf '%s\0' "$f"; sha256sum < "$f"; done | sha256sum | cut -d' ' -f1
}
wasm_inputs=$( { printf '%s\n' Cargo.toml Cargo.lock scripts/build-pkg.sh; find src js -type f ! -name 'index.js' ! -name 'index.d.ts'; } | LC_ALL=C sort)
pkg_inputs=$(printf '%s\n' js/index.js js/index.d.ts pkg.json.in README.npm.md LICENSE-MIT LICENSE-APACHE scripts/build-pkg.sh)
# shellcheck disable=SC2086
wasm_hash=$(hash_of $wasm_inputs)
# shellcheck disable=SC2086
pkg_hash=$(hash_of $pkg_inputs)$wasm_hash
stamp_ok() { [ "${FORCE:-0}" != 1 ] && [ -f "pkg/.stamp-$1" ] && [ "$(cat "pkg/.stamp-$1")" = "$2" ]; }

if stamp_ok wasm "$wasm_hash" && [ -f pkg/mcp_web_auth_bg.wasm ] && [ -f pkg/mcp_web_auth.js ]; then
  say "1/3 wasm: up to date (Cargo.toml, Cargo.lock, src/, js/ snippets unchanged), skipped"
else
  rm -f pkg/.stamp-wasm pkg/.stamp-pkg
  rm -rf pkg/snippets # snippets of an older build must not ship or count
  say "1/3 wasm: wasm-pack build --target web --release (cargo, wasm-bindgen, wasm-opt; about 50 s cold, a few s warm)"
  # Panic locations name source files: strip the machine's paths (smaller, and
  # the same bytes on every machine).
  # (CARGO_ENCODED_RUSTFLAGS: flags separated by \x1f, so paths may hold spaces.)
  remap="--remap-path-prefix=$PWD/="
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do remap="$remap"$'\x1f'"--remap-path-prefix=$d="; done
  export CARGO_ENCODED_RUSTFLAGS="$remap"
  start=$SECONDS
  # cargo's own progress (Compiling ...) and wasm-pack's [INFO] steps go to the terminal.
  wasm-pack --log-level info build --target web --release --mode no-install --out-dir pkg --out-name mcp_web_auth
  rm -f pkg/.gitignore pkg/package.json pkg/README.md
  # The glue's JSDoc repeats what pkg/*.d.ts says (with its docs) and ships to
  # every page: strip it. Only whole-line /** ... */ blocks go; the
  # /* @ts-self-types */ pragma stays.
  perl -0pi -e 's{^[ \t]*/\*\*.*?\*/[ \t]*\n}{}gms' pkg/mcp_web_auth.js
  # The hand-written snippets (js/*.js) ship without their whole-line comments.
  perl -ni -e 'print unless m{^\s*//}' pkg/snippets/*/js/*.js
  echo "$wasm_hash" > pkg/.stamp-wasm
  say "1/3 wasm: done in $((SECONDS - start)) s"
fi

errors=$(cd pkg && ls snippets/*/js/errors.js)
snippets=$(ls pkg/snippets/*/js/*.js)
version=$(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)

if stamp_ok pkg "$pkg_hash" && [ -f pkg/index.js ]; then
  say "2/3 package files: up to date, skipped"
else
  say "2/3 package files: index.js (from js/index.js), index.d.ts, package.json $version, README.md (README.npm.md), LICENSE-MIT, LICENSE-APACHE"
  # The package entry ships without its whole-line comments, like the snippets;
  # it imports the error classes from the very module the wasm glue imports,
  # so `instanceof` holds for thrown errors.
  perl -ne 'print unless m{^\s*//}' js/index.js | sed "s#@ERRORS@#$errors#g" > pkg/index.js
  cp js/index.d.ts pkg/index.d.ts
  sed "s/@VERSION@/$version/" pkg.json.in > pkg/package.json
  cp README.npm.md pkg/README.md
  cp LICENSE-MIT LICENSE-APACHE pkg/
  echo "$pkg_hash" > pkg/.stamp-pkg
fi

say "3/3 size (gzip -9 of wasm + JS glue + entry + snippets)"
size() { wc -c < "$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
wasm=pkg/mcp_web_auth_bg.wasm
total_raw=0; total_gz=0
printf '%-44s %9s %9s\n' file raw gzip
for f in "$wasm" pkg/mcp_web_auth.js pkg/index.js $snippets; do
  printf '%-44s %9s %9s\n' "$f" "$(size "$f")" "$(gz "$f")"
  total_raw=$((total_raw + $(size "$f"))); total_gz=$((total_gz + $(gz "$f")))
done
printf '%-44s %9s %9s\n' total "$total_raw" "$total_gz"
echo "size: $total_gz bytes gzip (ceiling $CEILING_GZIP_BYTES); the MCP TypeScript SDK 2.x client auth with its transport: about $SDK_GZIP_BYTES"
if [ "$total_gz" -gt "$CEILING_GZIP_BYTES" ]; then
  echo "size ceiling exceeded: $total_gz > $CEILING_GZIP_BYTES bytes gzip" >&2
  exit 1
fi

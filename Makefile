# mcp-web-auth. `make demo` runs the demo; `make test` runs every test.
# Both install what they need first (scripts/install-tools.sh, idempotent).
SHELL := /bin/bash
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Node 22 LTS from npm (tools/node22) for what runs the demo stack: oidc-provider
# supports LTS releases from 22 and warns on the machine's Node 20.
NODE22 := $(CURDIR)/tools/node22/node_modules/node/bin/node

.PHONY: demo test build tools bench fuzz test-fuzz lint test-host test-browser test-chromium test-node test-consumers test-stack test-e2e test-conformance test-types

tools:
	@bash scripts/install-tools.sh

build: tools
	@bash scripts/build-pkg.sh

demo: build
	@$(NODE22) www/demo.mjs

test: tools lint test-host test-fuzz test-browser build test-types test-chromium test-node test-consumers test-stack test-e2e test-conformance
	@echo "make test: all suites passed"

lint:
	cargo fmt --check
	cargo clippy --all-targets -q -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --tests -q -- -D warnings

test-host:
	cargo test -q

# Every fuzz target replays its corpus and fuzzes a few seconds (a smoke check).
test-fuzz:
	bash scripts/fuzz.sh smoke

# Every fuzz target until 10 million executions (FUZZ_RUNS, FUZZ_SECONDS);
# writes fuzz/RESULTS.md.
fuzz: tools
	bash scripts/fuzz.sh run

# tsc --strict (pinned TypeScript) over the package README's snippets, the
# demo app and typed edge cases, against the built pkg/index.d.ts.
test-types:
	node --test tests/types/

# Browser tests of the web adapters (wasm-bindgen-test, headless Debian
# Chromium), with the fixture servers started and stopped around them.
test-browser:
	@bash scripts/test-browser.sh

# The built package's JS API in headless Chromium against a fixture server.
test-chromium:
	@if ls tests/chromium/*.test.mjs >/dev/null 2>&1; then node --test --test-concurrency=1 tests/chromium/; fi

# The built package in Node (no window, no sessionStorage of its own).
test-node:
	@if ls tests/node/*.test.mjs >/dev/null 2>&1; then node --test tests/node/; fi

# The packed tarball installed into a Vite app, a plain page and Node.
test-consumers:
	@if ls tests/consumers/*.test.mjs >/dev/null 2>&1; then node --test --test-concurrency=1 tests/consumers/; fi

test-stack:
	$(NODE22) --test www/stack/*.test.js

test-e2e:
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then $(NODE22) --test --test-concurrency=1 tests/e2e/*.test.mjs; fi

test-conformance:
	@if [ -x tests/conformance/run.sh ]; then bash tests/conformance/run.sh; fi

# A benchmark, not a test (not in `make test`; it never fails on numbers): this
# package against the MCP TypeScript SDK's client auth in headless Chromium,
# servers on loopback with 50 ms injected each way per request. Prints the
# tables and writes bench/results.md (BENCH_RUNS, BENCH_CALLS: bench/run.mjs).
bench: build
	@if [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then \
	  echo "[bench] npm ci in bench"; (cd bench && npm ci --no-audit --no-fund --loglevel=error); fi
	node bench/run.mjs

#!/usr/bin/env bash
# Runs every tests/web*.rs file with wasm-bindgen-test in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh browser
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"
args=()
for f in tests/web*.rs; do args+=(--test "$(basename "$f" .rs)"); done
cargo test --target wasm32-unknown-unknown "${args[@]}"

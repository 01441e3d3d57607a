#!/usr/bin/env bash
# Everything CI runs (`make test`): installs what is missing, then runs every kind of test
# and prints one closing line with the total over all suites.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d)/test.log
: >"$log"
t0=$(date +%s)

stage() {
  local name=$1; shift
  printf '\n\033[1;35m=== %s\033[0m\n' "$name" | tee -a "$log"
  local s=$(date +%s)
  "$@" 2>&1 | tee -a "$log"
  echo "=== $name: $(( $(date +%s) - s ))s" | tee -a "$log"
}

stage "setup"                   scripts/setup.sh browser
stage "native tests (cargo)"    cargo test --all-targets
stage "package (make pkg)"      scripts/build-pkg.sh
stage "size budget"             node scripts/size.mjs pkg/nextchat_tavern_bg.wasm --budget-kb "${WASM_GZIP_BUDGET_KB:-300}"
stage "browser tests (wasm-bindgen-test, headless Chromium)" scripts/test-browser.sh
stage "node tests"              node --test tests/node/
stage "demo end-to-end (playwright-core, headless Chromium)" node --test tests/e2e/
stage "Next.js 14 smoke"        scripts/test-nextjs.sh
stage "SillyTavern 1.19 integration (real server from npm, headless Chromium)" \
  bash -c 'scripts/sillytavern.sh install && node --test tests/st/'

# Totals: cargo/libtest ("test result: ok. N passed; M failed") and node:test ("# pass N", "# fail N").
passed=$(( $(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}') \
         + $(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') ))
failed=$(( $(grep -oE '[0-9]+ failed' "$log" | grep -v '^0 ' | awk '{s+=$1} END {print s+0}') \
         + $(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') ))
echo
echo "all suites done in $(( $(date +%s) - t0 ))s"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

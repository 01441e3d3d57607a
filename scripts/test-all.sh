#!/usr/bin/env bash
# Everything CI runs (`make test`): installs what is missing, then runs every kind of test and
# prints one closing line with the total over all suites. A failing stage does not stop the
# others; the script fails at the end if any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d)/test.log
: >"$log"
t0=$(date +%s)
failed_stages=()

stage() {
  local name=$1; shift
  printf '\n\033[1;35m=== %s\033[0m\n' "$name" | tee -a "$log"
  local s=$(date +%s)
  if "$@" 2>&1 | tee -a "$log"; then
    echo "=== $name: ok, $(( $(date +%s) - s ))s" | tee -a "$log"
  else
    echo "=== $name: FAILED, $(( $(date +%s) - s ))s" | tee -a "$log"
    failed_stages+=("$name")
  fi
}

scripts/setup.sh browser || { echo "setup failed" >&2; exit 1; }
stage "native tests (cargo)"    cargo test --all-targets
stage "package (make pkg)"      scripts/build-pkg.sh
if [ ! -f pkg/package.json ]; then
  echo "no package: the remaining stages need pkg/" >&2
  exit 1
fi
# Gzip budget per .wasm module in pkg/ (a module without one fails): add one --budget-kb per module.
stage "size budget"             node scripts/size.mjs pkg --budget-kb "nextchat_tavern_bg.wasm=${WASM_GZIP_BUDGET_KB:-800}"
stage "browser tests (wasm-bindgen-test, headless Chromium)" scripts/test-browser.sh
stage "node tests"              node --test --test-timeout=180000 tests/node/
stage "end-to-end: demo, store, library (playwright-core, headless Chromium)" node --test --test-timeout=180000 tests/e2e/
stage "Next.js 14 smoke"        scripts/test-nextjs.sh
stage "SillyTavern 1.19 integration (real server from npm, headless Chromium)" \
  bash -c 'scripts/sillytavern.sh install && node --test --test-timeout=300000 tests/st/'

# Totals: cargo/libtest ("test result: ok. N passed; M failed") and node:test ("# pass N", "# fail N").
passed=$(( $(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}') \
         + $(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') ))
failed=$(( $(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | awk '{s+=$6} END {print s+0}') \
         + $(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') ))
echo
echo "all suites done in $(( $(date +%s) - t0 ))s"
if [ ${#failed_stages[@]} -gt 0 ]; then
  printf 'failed stage: %s\n' "${failed_stages[@]}"
  # A stage can fail without a failing test (a build error): count it.
  [ "$failed" -gt 0 ] || failed=${#failed_stages[@]}
fi
echo "total: $passed passed, $failed failed"
[ ${#failed_stages[@]} -eq 0 ]

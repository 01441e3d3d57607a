#!/usr/bin/env bash
# Runs every benchmark in benches/*.bench.mjs against the release package; prints BENCH lines.
# The World Info benchmark against SillyTavern's own checkWorldInfo needs Chromium and a
# local SillyTavern (both installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/package.json ] || scripts/build-pkg.sh
scripts/setup.sh browser
scripts/sillytavern.sh install
for f in benches/*.bench.mjs; do
  echo "== $f"
  node "$f"
done

#!/usr/bin/env bash
# Runs every benchmark in benches/*.bench.mjs against the release package; prints BENCH lines.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/package.json ] || scripts/build-pkg.sh
for f in benches/*.bench.mjs; do
  echo "== $f"
  node "$f"
done

#!/usr/bin/env bash
# Next.js 14 smoke test: the app in tests/nextjs-app depends on pkg/ through a file: link,
# type-checks our .d.ts, builds with `next build`, and renders in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/../tests/nextjs-app"
export NEXT_TELEMETRY_DISABLED=1
[ -f ../../pkg/package.json ] || { echo "pkg/ is missing: run make pkg first" >&2; exit 1; }
if [ ! -d node_modules/next ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.dts.json
echo "tsc: generated .d.ts type-checks with skipLibCheck off"
rm -rf .next
npx next build
node --test smoke.test.mjs

#!/usr/bin/env bash
# `make demo`: builds the package, starts a local SillyTavern (127.0.0.1:8123, CORS open to the
# demo's origin) and the demo model (127.0.0.1:8124), then serves the demo on 127.0.0.1:$PORT.
#   NO_SILLYTAVERN=1 make demo    skip SillyTavern (cards, library, prompt engine and chat still work)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8080}"
ST_PORT="${ST_PORT:-8123}"
MODEL_PORT="${MODEL_PORT:-8124}"
scripts/build-pkg.sh
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${NO_SILLYTAVERN:-}" ] || scripts/sillytavern.sh stop "$ST_PORT" || true
}
trap cleanup EXIT INT TERM
node scripts/fake-openai.mjs --port "$MODEL_PORT" &
pids+=($!)
if [ -z "${NO_SILLYTAVERN:-}" ]; then
  KEEP_ST_DATA=1 scripts/sillytavern.sh start "$ST_PORT" "http://127.0.0.1:$PORT"
fi
node scripts/serve.mjs --port "$PORT"

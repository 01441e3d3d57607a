#!/usr/bin/env bash
# A real SillyTavern for tests and the demo, installed from the npm registry into .cache/.
#   scripts/sillytavern.sh install                 # npm pack sillytavern@$ST_VERSION + npm install --omit=dev (once)
#   scripts/sillytavern.sh start <port> <origin>…  # fresh config + data root, bound to 127.0.0.1; waits until ready
#   scripts/sillytavern.sh stop <port>
# ST_ACCOUNTS=true starts it with user accounts on (login required).
# The config is written fresh every start (SillyTavern rewrites it), with CORS allowing the given origins.
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VERSION="${ST_VERSION:-1.19.0}"
base=.cache/sillytavern
app=$base/$ST_VERSION/package

install() {
  if [ -f "$app/.installed" ]; then return; fi
  echo "[sillytavern] installing sillytavern@$ST_VERSION from npm (once, ~40 s)"
  rm -rf "$base/$ST_VERSION" && mkdir -p "$base/$ST_VERSION"
  (cd "$base/$ST_VERSION" && npm pack --silent "sillytavern@$ST_VERSION" >/dev/null && tar xzf "sillytavern-$ST_VERSION.tgz" && rm "sillytavern-$ST_VERSION.tgz")
  (cd "$app" && npm install --omit=dev --no-audit --no-fund --loglevel=error)
  touch "$app/.installed"
}

start() {
  local port=$1; shift
  local run=$base/run-$port
  install
  stop "$port" 2>/dev/null || true
  rm -rf "$run" && mkdir -p "$run"
  local origins=""
  for o in "$@"; do origins+="\"$o\", "; done
  cat >"$run/config.yaml" <<YAML
dataRoot: ./data
listen: false
port: $port
protocol: { ipv4: true, ipv6: false }
browserLaunch: { enabled: false }
whitelistMode: true
whitelist: ["127.0.0.1", "::1"]
enableForwardedWhitelist: false
hostWhitelist: { enabled: false }
enableUserAccounts: ${ST_ACCOUNTS:-false}
disableCsrfProtection: false
whitelistImportDomains: ["127.0.0.1"]
cors:
  enabled: true
  origin: [${origins%, }]
  methods: ["GET", "POST", "OPTIONS"]
  allowedHeaders: ["Content-Type", "X-CSRF-Token"]
  exposedHeaders: ["Content-Disposition", "X-Custom-Content-Type"]
  credentials: true
  maxAge: 600
logging: { enableAccessLog: false, minLogLevel: 1 }
extensions: { enabled: true, autoUpdate: false, models: { autoDownload: false } }
enableDownloadableTokenizers: false
skipContentCheck: false
YAML
  (cd "$app" && exec node server.js --configPath "$PWD/../../run-$port/config.yaml" --dataRoot "$PWD/../../run-$port/data" \
     >"../../run-$port/st.log" 2>&1) &
  echo $! >"$run/st.pid"
  for _ in $(seq 1 600); do
    if node -e "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "http://127.0.0.1:$port/csrf-token"; then
      echo "[sillytavern] $ST_VERSION ready on http://127.0.0.1:$port/ (log: $run/st.log)"
      return
    fi
    if ! kill -0 "$(cat "$run/st.pid")" 2>/dev/null; then
      echo "[sillytavern] exited early; log:" >&2; tail -30 "$run/st.log" >&2; exit 1
    fi
    sleep 0.25
  done
  echo "[sillytavern] not ready after 150 s; log:" >&2; tail -30 "$run/st.log" >&2; exit 1
}

stop() {
  local run=$base/run-$1
  [ -f "$run/st.pid" ] || return 0
  local pid; pid=$(cat "$run/st.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [ -n "${KEEP_ST_DATA:-}" ] || rm -rf "$run"
}

cmd=${1:-}; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 install | start <port> <origin>... | stop <port>" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently. Every download comes
# from a package registry (rustup's dist server for the target, crates.io, npm, Debian).
#   scripts/setup.sh build    wasm32 target, wasm-bindgen-cli (pinned), npm dev tools
#   scripts/setup.sh browser  + Debian chromium and chromium-driver
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-build}"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# 1. wasm32 target
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli at exactly the version in Cargo.lock
[ -f Cargo.lock ] || cargo generate-lockfile
want=$(scripts/wasm-bindgen-version.sh)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none}); takes ~4 minutes once"
  # No --locked: the locked tree names a webpki-roots version the registry may not have.
  cargo install wasm-bindgen-cli --version "=$want"
fi

# 3. npm dev tools (binaryen's wasm-opt, playwright-core, benchmark peers), from the lockfile
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (binaryen, playwright-core, …)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 4. Chromium + chromedriver from Debian (browser tests only)
if [ "$what" = browser ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      say "installing Debian chromium + chromium-driver"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq chromium chromium-driver >/dev/null
    else
      echo "Chromium and chromedriver are missing. Install them (Debian/Ubuntu: sudo apt-get install chromium chromium-driver)," >&2
      echo "or set CHROMIUM=/path/to/chromium and CHROMEDRIVER=/path/to/chromedriver." >&2
      exit 1
    fi
  fi
fi

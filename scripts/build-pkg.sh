#!/usr/bin/env bash
# Builds the npm package into pkg/:
#   cargo (wasm32, release) -> wasm-bindgen --target web -> npm binaryen wasm-opt -> package.json + README
# Never uses Debian's wasm-opt (it produces modules that fail at instantiation).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

crate=nextchat_tavern
out=pkg
raw=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/$crate.wasm

cargo build --lib --release --target wasm32-unknown-unknown
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
wasm-bindgen --target web --out-dir "$out.tmp" "$raw"
# Safe default feature flags in case the target_features section is ever missing (see toolchain notes).
node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-mutable-globals --enable-multivalue \
  "$out.tmp/${crate}_bg.wasm" -o "$out.tmp/${crate}_bg.wasm"
cp pkg-template/worker.js pkg-template/worker-client.js pkg-template/worker-client.d.ts "$out.tmp/"
node scripts/make-package-json.mjs "$out.tmp"
cp pkg-template/README.md LICENSE-MIT LICENSE-APACHE "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"

# Smoke-test the optimised module: a clean wasm-opt exit proves nothing.
node --input-type=module -e "
import { readFileSync } from 'node:fs';
const m = await import('./$out/$crate.js');
m.initSync({ module: readFileSync('./$out/${crate}_bg.wasm') });
if (typeof m.version() !== 'string') throw new Error('version() broken');
"
node scripts/size.mjs "$out/${crate}_bg.wasm"

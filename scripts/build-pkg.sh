#!/usr/bin/env bash
# Builds the npm package into pkg/:
#   cargo (wasm32, release) -> wasm-bindgen --target web -> npm binaryen wasm-opt -> package.json + README
# Never uses Debian's wasm-opt (it produces modules that fail at instantiation).
# Incremental: when the raw cargo module and every other input of pkg/ (tool versions, wasm-opt
# flags, pkg-template/, the package scripts, README/LICENSE, this script) hash the same as at the
# last build and pkg/ is exactly what that build left, the wasm-bindgen/wasm-opt/assembly steps
# are skipped (the stamp is in the cargo target dir; `make clean` removes both).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

crate=nextchat_tavern
out=pkg
target=${CARGO_TARGET_DIR:-target}
raw=$target/wasm32-unknown-unknown/release/$crate.wasm
stamp=$target/pkg.stamp
# Safe default feature flags in case the target_features section is ever missing (see toolchain notes).
wasm_opt_flags=(-Oz
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-reference-types --enable-mutable-globals --enable-multivalue)

cargo build --lib --release --target wasm32-unknown-unknown

# What pkg/ is built from, then what pkg/ holds (every file's hash).
state() {
  {
    echo "wasm-bindgen: $(wasm-bindgen --version)"
    echo "wasm-opt: $(node_modules/.bin/wasm-opt --version) ${wasm_opt_flags[*]}"
    sha256sum "$raw" Cargo.toml LICENSE-MIT LICENSE-APACHE scripts/build-pkg.sh scripts/make-package-json.mjs
    find pkg-template -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | sed 's/ .*/ inputs/'
  if [ -d "$out" ]; then
    (cd "$out" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  fi
}

if [ -f "$stamp" ] && [ -f "$out/package.json" ] && [ "$(state)" = "$(cat "$stamp")" ]; then
  echo "pkg/ is up to date (same cargo module and package inputs): wasm-bindgen and wasm-opt skipped"
else
  rm -f "$stamp"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  wasm-bindgen --target web --out-dir "$out.tmp" "$raw"
  node_modules/.bin/wasm-opt "${wasm_opt_flags[@]}" \
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
  state >"$stamp"
fi

# Sizes of every module (brotli 11 takes seconds: kept with the stamp, measured again when pkg/ or
# size.mjs changed).
sizes=$target/pkg.sizes
key=$({ cat "$stamp"; sha256sum scripts/size.mjs; } | sha256sum | cut -c1-32)
if [ -f "$sizes" ] && [ "$(head -n 1 "$sizes")" = "$key" ]; then
  tail -n +2 "$sizes"
else
  report=$(node scripts/size.mjs "$out")
  printf '%s\n%s\n' "$key" "$report" >"$sizes"
  echo "$report"
fi

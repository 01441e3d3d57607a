// Prints raw, gzip -9 and brotli (quality 11) sizes of each .wasm module: of one file, or of every
// .wasm under a folder (`node scripts/size.mjs pkg`).
// Budgets (gzip, KB): `--budget-kb N` for a single file, or `--budget-kb <module file name>=N`,
// once per module. With any budget given, every module needs one: a module without a budget
// fails the check, so a new module gets its budget where the others are set (scripts/test-all.sh).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { brotliCompressSync, constants as zc, gzipSync } from "node:zlib";

const args = process.argv.slice(2);
const budgets = new Map(); // module file name (or "" for the single file) -> KB
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--budget-kb") {
    const v = args[++i] ?? "";
    const eq = v.lastIndexOf("=");
    const [name, kb] = eq >= 0 ? [v.slice(0, eq), v.slice(eq + 1)] : ["", v];
    if (!/^\d+(\.\d+)?$/.test(kb)) throw new Error(`--budget-kb ${v}: expected N or <file>=N (KB)`);
    budgets.set(name, Number(kb));
  } else {
    paths.push(args[i]);
  }
}
if (paths.length !== 1) {
  console.error("usage: node scripts/size.mjs <file.wasm | folder> [--budget-kb N | --budget-kb <file>=N ...]");
  process.exit(2);
}

function wasmFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? wasmFiles(join(dir, e.name)) : e.name.endsWith(".wasm") ? [join(dir, e.name)] : []))
    .sort();
}

const [path] = paths;
const single = !statSync(path).isDirectory();
const files = single ? [path] : wasmFiles(path);
if (files.length === 0) {
  console.error(`no .wasm module under ${path}`);
  process.exit(1);
}
if (!single && budgets.has("")) {
  console.error("--budget-kb N without a file name needs a single file; use --budget-kb <file>=N");
  process.exit(2);
}

const kb = (n) => (n / 1000).toFixed(1);
let failed = false;
for (const file of files) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 }).length;
  const br = brotliCompressSync(bytes, {
    params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length;
  console.log(
    `SIZE ${file} raw=${bytes.length} (${kb(bytes.length)} KB) gzip=${gz} (${kb(gz)} KB) brotli=${br} (${kb(br)} KB)`,
  );
  if (budgets.size === 0) continue;
  const name = single && budgets.has("") ? "" : single ? basename(file) : relative(path, file);
  const budget = budgets.get(name);
  if (budget === undefined) {
    console.error(`no size budget for ${file}: add --budget-kb ${name}=<gzip KB> where the budgets are set`);
    failed = true;
  } else if (gz > budget * 1000) {
    console.error(`size budget exceeded: ${file} gzip ${kb(gz)} KB > ${budget} KB`);
    failed = true;
  } else {
    console.log(`size budget ok: ${file} gzip ${kb(gz)} KB <= ${budget} KB`);
  }
}
for (const name of budgets.keys()) {
  if (name && !files.some((f) => (single ? basename(f) : relative(path, f)) === name)) {
    console.error(`size budget for ${name}, but there is no such module under ${path}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

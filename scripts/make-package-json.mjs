// Writes <outDir>/package.json from pkg-template/package.json, taking the version
// from Cargo.toml and listing the files wasm-bindgen produced.
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const outDir = process.argv[2];
const cargo = readFileSync("Cargo.toml", "utf8");
const version = /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1];
const pkg = JSON.parse(readFileSync("pkg-template/package.json", "utf8"));
pkg.version = version;
const produced = readdirSync(outDir).filter((f) => /\.(js|wasm|d\.ts)$/.test(f));
const files = new Set([...(pkg.files || []), ...produced, "README.md", "LICENSE-MIT", "LICENSE-APACHE"]);
if (existsSync(join(outDir, "snippets"))) files.add("snippets/");
pkg.files = [...files].sort();
writeFileSync(join(outDir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");

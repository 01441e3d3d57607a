// Node smoke test: the built package imports as an ES module and works with initSync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const dir = new URL("../../pkg/", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8"));
const m = await import(new URL("nextchat_tavern.js", dir));
m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });

test("version() is the package version", () => {
  assert.equal(m.version(), pkg.version);
});

test("buildInfo() returns a plain camelCase object", () => {
  const info = m.buildInfo();
  assert.deepEqual(Object.keys(info).sort(), ["debug", "name", "targetArch", "version"]);
  assert.equal(info.name, "nextchat-tavern");
  assert.equal(info.targetArch, "wasm32");
  assert.equal(info.debug, false);
});

test("errorCodes() lists the stable codes", () => {
  const codes = m.errorCodes();
  for (const c of ["not_a_card", "truncated", "bad_json", "too_large", "unsupported_format", "invalid_argument"]) {
    assert.ok(codes.includes(c), c);
  }
  assert.equal(new Set(codes).size, codes.length);
});

test("isTavernError() accepts only our errors", () => {
  const e = Object.assign(new Error("x"), { name: "TavernError", code: "not_a_card" });
  assert.equal(m.isTavernError(e), true);
  assert.equal(m.isTavernError(new Error("x")), false);
  assert.equal(m.isTavernError(Object.assign(new Error("x"), { name: "TavernError", code: "nope" })), false);
  assert.equal(m.isTavernError("not_a_card"), false);
  assert.equal(m.isTavernError(undefined), false);
});

test("package.json has the fields bundlers and Next.js need", () => {
  assert.equal(pkg.name, "nextchat-tavern");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.main, "nextchat_tavern.js");
  assert.equal(pkg.module, "nextchat_tavern.js");
  assert.equal(pkg.types, "nextchat_tavern.d.ts");
  for (const f of ["nextchat_tavern.js", "nextchat_tavern_bg.wasm", "nextchat_tavern.d.ts"]) {
    assert.ok(pkg.files.includes(f), f);
  }
  const dts = readFileSync(new URL("nextchat_tavern.d.ts", dir), "utf8");
  assert.match(dts, /export function version\(\): string;/);
  assert.match(dts, /export interface TavernError extends Error/);
  assert.match(dts, /export type ErrorCode =/);
});

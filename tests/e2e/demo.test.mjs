// End to end: serve www-demo + pkg on 127.0.0.1, load it in headless Chromium,
// and check that the page shows the version read from the wasm module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "./browser.mjs";

const pkg = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
let server, url, browser;

before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("demo loads the wasm engine and shows its version, with no console errors", async () => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  const wasmResponse = page.waitForResponse((r) => r.url().endsWith(".wasm"));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("engine-version").textContent !== "pending");
  assert.equal(await page.textContent("#engine-version"), pkg.version);
  assert.equal(await page.textContent("#home-version"), pkg.version);
  assert.equal(await page.getAttribute("#engine-status", "data-state"), "ready");
  assert.equal((await wasmResponse).headers()["content-type"], "application/wasm");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the static server refuses paths outside its folders", async () => {
  const res = await fetch(new URL("/pkg/../../Cargo.toml", url));
  assert.equal(res.status, 404);
  const res2 = await fetch(new URL("/%2e%2e/Cargo.toml", url));
  assert.equal(res2.status, 404);
});

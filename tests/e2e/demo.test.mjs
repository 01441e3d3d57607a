// End to end: serve www-demo + pkg on 127.0.0.1, load it in headless Chromium,
// and check that the page shows the version read from the wasm module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
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

/** Sends one raw HTTP/1.1 request line (no URL normalisation on the way) and returns the status. */
function rawGet(path) {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const sock = connect(Number(port), hostname, () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    let data = "";
    sock.setEncoding("latin1");
    sock.on("data", (d) => (data += d));
    sock.on("end", () => ok(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1])));
    sock.on("error", fail);
  });
}

test("the static server refuses paths outside its folders", async () => {
  // The control: the same file inside the mount is served, so a 404 below is the guard at work.
  assert.equal(await rawGet("/pkg/package.json"), 200);
  // Raw request lines: `fetch`/`new URL` would normalise these before sending. Each one names
  // a file that exists one level above a mount (the repository's Cargo.toml).
  for (const path of [
    "/pkg/../Cargo.toml",
    "/../Cargo.toml",
    "/pkg/..%2fCargo.toml",
    "/%2e%2e/Cargo.toml",
    "/pkg/%2e%2e%2fCargo.toml",
    "/pkg/..\\Cargo.toml",
  ]) {
    assert.equal(await rawGet(path), 404, path);
  }
});

/** Opens the SillyTavern view with its settings read held open, runs `act` meanwhile, then releases it. */
async function stViewWhileSettingsLoad(act) {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("engine-status")?.dataset.state === "ready");
  // Hold the view's settings read open until the test has acted, so the race is certain.
  await page.evaluate(async () => {
    const m = await import("/pkg/nextchat_tavern.js");
    const real = m.TavernStore.prototype.getSettings;
    window.__settingsCalls = 0;
    window.__release = null;
    m.TavernStore.prototype.getSettings = function (...args) {
      window.__settingsCalls++;
      const p = real.apply(this, args);
      // Released by the test; `__settled` is set once everything the view chained on it ran.
      return new Promise((ok) => {
        window.__release = () => { ok(p); p.finally(() => setTimeout(() => { window.__settled = true; }, 0)); };
      });
    };
  });
  await page.evaluate(() => { location.hash = "#/sillytavern"; });
  await page.waitForFunction(() => window.__settingsCalls > 0 && window.__release);
  await act(page);
  await page.evaluate(() => window.__release());
  await page.waitForFunction(() => window.__settled === true);
  const result = { value: await page.inputValue("#st-url"), status: await page.textContent("#st-status") };
  assert.deepEqual(errors, []);
  await page.close();
  return result;
}

test("SillyTavern view: a URL typed while the saved settings load is kept (no overwrite, no auto-connect)", async () => {
  const r = await stViewWhileSettingsLoad((page) => page.fill("#st-url", "http://127.0.0.1:1/typed-by-the-user"));
  assert.equal(r.value, "http://127.0.0.1:1/typed-by-the-user");
  assert.equal(r.status, "Not connected.", "no connection started by itself");
});

test("SillyTavern view: nothing is written into the URL field while it has the focus", async () => {
  // A user who clicked into the field is about to type: a default written now would end up in
  // front of their text ("http://127.0.0.1:8123http://…").
  const r = await stViewWhileSettingsLoad((page) => page.focus("#st-url"));
  assert.equal(r.value, "");
});

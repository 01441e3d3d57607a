// End to end: serve www-demo + pkg on 127.0.0.1, load it in headless Chromium,
// and check that the page shows the version read from the wasm module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
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

/** GET with exactly these headers (no automatic decompression); resolves to { status, headers, body }. */
function get(base, path, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request(new URL(path, base), { headers }, (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

const wasmPath = "/pkg/nextchat_tavern_bg.wasm";
const wasmBytes = () => readFileSync(new URL("../../pkg/nextchat_tavern_bg.wasm", import.meta.url));

for (const [encoding, decode] of [
  ["br", brotliDecompressSync],
  ["gzip", gunzipSync],
]) {
  test(`the server sends the wasm ${encoding}-compressed to a client that accepts ${encoding}`, async () => {
    const r = await get(url, wasmPath, { "accept-encoding": encoding });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-encoding"], encoding);
    assert.equal(r.headers["content-type"], "application/wasm");
    assert.equal(r.headers.vary, "Accept-Encoding");
    assert.ok(r.body.length < wasmBytes().length / 2, `${encoding}: ${r.body.length} bytes sent`);
    assert.ok(decode(r.body).equals(wasmBytes()), "decompresses to the file's exact bytes");
  });
}

test("the server sends identity bytes, with a validator, to a client that accepts no encoding", async () => {
  for (const headers of [{}, { "accept-encoding": "identity" }, { "accept-encoding": "br;q=0, gzip;q=0" }]) {
    const r = await get(url, wasmPath, headers);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-encoding"], undefined, JSON.stringify(headers));
    assert.ok(r.body.equals(wasmBytes()));
    assert.equal(r.headers.vary, "Accept-Encoding", "caches must not hand this copy to a br client");
    assert.match(r.headers.etag ?? "", /^"[^"]+"$/, "a strong ETag");
  }
});

test("a revalidation with the ETag gets 304 and no body; the page still revalidates every time", async () => {
  for (const enc of ["br", "gzip", "identity"]) {
    const first = await get(url, wasmPath, { "accept-encoding": enc });
    assert.equal(first.headers["cache-control"], "no-cache");
    const again = await get(url, wasmPath, { "accept-encoding": enc, "if-none-match": first.headers.etag });
    assert.equal(again.status, 304, enc);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
  }
  // Each encoding is its own representation with its own strong ETag.
  const br = (await get(url, wasmPath, { "accept-encoding": "br" })).headers.etag;
  const plain = (await get(url, wasmPath)).headers.etag;
  assert.notEqual(br, plain);
  assert.equal((await get(url, wasmPath, { "if-none-match": br })).status, 200, "a br ETag does not validate identity bytes");
});

test("a changed file gets a new ETag and its new bytes, compressed afresh", async () => {
  const dir = mkdtempSync(join(tmpdir(), "serve-test-"));
  const { server: s, url: u } = await serve({ port: 0, mounts: [["/", dir]] });
  try {
    const file = join(dir, "app.js");
    writeFileSync(file, "export const v = 1;\n".repeat(200));
    const one = await get(u, "/app.js", { "accept-encoding": "br" });
    assert.equal(brotliDecompressSync(one.body).toString(), "export const v = 1;\n".repeat(200));
    writeFileSync(file, "export const v = 22;\n".repeat(200));
    const two = await get(u, "/app.js", { "accept-encoding": "br", "if-none-match": one.headers.etag });
    assert.equal(two.status, 200, "the old ETag no longer validates");
    assert.notEqual(two.headers.etag, one.headers.etag);
    assert.equal(brotliDecompressSync(two.body).toString(), "export const v = 22;\n".repeat(200));
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
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

// Serves the built Next.js app (`next start` on 127.0.0.1) and checks in headless Chromium
// that the client-side dynamic import of the package renders the wasm module's version.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { launch, collectErrors } from "../e2e/browser.mjs";

const here = new URL(".", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
let next, url, browser;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

async function waitForHttp(u, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(u);
      if (r.ok) return;
    } catch {}
    if (Date.now() > end) throw new Error(`${u} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  next = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: here,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  await waitForHttp(url, 30_000);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  next?.kill();
});

test("Next.js 14 page imports the package client-side and renders its version", async () => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  const wasm = page.waitForResponse((r) => r.url().includes(".wasm"));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("version")?.textContent !== "pending");
  assert.equal(await page.textContent("#version"), pkg.version);
  assert.equal(await page.textContent("#target"), "wasm32");
  assert.equal(await page.$("#error"), null);
  const res = await wasm;
  // webpack emitted the .wasm as a hashed static asset and Next serves it with the right type
  assert.match(res.url(), /\/_next\/static\/media\/nextchat_tavern_bg\.[0-9a-f]+\.wasm$/);
  assert.equal(res.headers()["content-type"], "application/wasm");
  assert.deepEqual(errors, []);
  await page.close();
});

// The Cards view in headless Chromium: import real cards (PNG, JSON with quirks, CharX), see the
// fields and warnings, export PNG / JSON / CharX and read the exports back; untrusted text
// stays text; a bad file shows a typed error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "./browser.mjs";

const fixtures = fileURLToPath(new URL("../fixtures/cards/", import.meta.url));
const expected = JSON.parse(readFileSync(`${fixtures}expected.json`, "utf8"));
const pkgDir = new URL("../../pkg/", import.meta.url);
const m = await import(new URL("nextchat_tavern.js", pkgDir));
m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", pkgDir)) });

let server, url, browser;
before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("import real cards, export PNG/JSON/CharX, exports read back with the same card", async () => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${url}#/cards`);
  await page.waitForSelector("#cards-file", { state: "attached" });
  for (const file of ["v2_basic.png", "v2_quirky_field_types.json", "charx_with_assets.charx"]) {
    const want = expected[file];
    await page.setInputFiles("#cards-file", `${fixtures}${file}`);
    await page.waitForFunction((n) => document.querySelector("#cards-name")?.textContent === n, want.name, { timeout: 20000 });
    assert.equal(await page.textContent("#cards-lore"), `${want.lorebook_entries} lorebook entries`, file);
    for (const format of ["png", "json", "charx"]) {
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`#cards-export-${format}`)]);
      const bytes = readFileSync(await dl.path());
      const back = m.importCard(new Uint8Array(bytes));
      assert.equal(back.card.data.name, want.name, `${file} → ${format}`);
      assert.equal(back.card.spec, "chara_card_v3");
      assert.equal((back.card.data.character_book?.entries ?? []).length, want.lorebook_entries, `${file} → ${format} lorebook`);
    }
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("card text is never HTML, and a bad file shows a typed error", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${url}#/cards`);
  await page.waitForSelector("#cards-file", { state: "attached" });
  await page.setInputFiles("#cards-file", { name: "x.json", mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ spec: "chara_card_v2", data: { name: "<img src=x onerror=alert(1)>", extensions: {} } })) });
  await page.waitForFunction(() => document.querySelector("#cards-name")?.textContent.startsWith("<img"));
  assert.equal(await page.locator("#cards-result img[src=x]").count(), 0);
  await page.setInputFiles("#cards-file", { name: "bad.bin", mimeType: "application/octet-stream", buffer: Buffer.from([1, 2, 3]) });
  await page.waitForSelector("#cards-error");
  assert.match(await page.textContent("#cards-error"), /not_a_card|unsupported_format/);
  await page.close();
});

// The demo's character library and settings in headless Chromium: import card files through the
// card codec, create, search, filter by tag, delete with undo — and everything survives a reload
// (IndexedDB). The settings view shows a message per bad field and saves valid changes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { statSync } from "node:fs";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "./browser.mjs";

const fixture = (name) => fileURLToPath(new URL(`../fixtures/cards/${name}`, import.meta.url));
let server, url, browser, page, errors;

before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  browser = await launch();
  page = await browser.context.newPage();
  errors = collectErrors(page);
});
after(async () => {
  await browser?.close();
  server?.close();
});

const names = () => page.$$eval("#library-grid .character .name", (els) => els.map((e) => e.textContent));
const statusIs = (re) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById("library-status")?.textContent ?? ""), re.source);
const avatarsShown = (n) => page.waitForFunction((n) =>
  [...document.querySelectorAll("#library-grid img.avatar")].filter((i) => i.complete && i.naturalWidth > 0).length >= n, n);
async function openLibrary() {
  await page.goto(new URL("#/library", url).href);
  await statusIs(/characters? · saved in this browser/);
}

test("the library imports cards, creates, searches, filters, deletes with undo — and survives a reload", async () => {
  await openLibrary();
  assert.match(await page.textContent("#library-status"), /^0 characters/);

  // Import: a PNG card, a V1 JSON card and a CharX (all through the card codec), plus a bad file.
  await page.setInputFiles("#library-import", [fixture("v2_basic.png"), fixture("v1_basic.json"), fixture("charx_with_assets.charx"), fixture("garbage.bin")]);
  await statusIs(/^Imported .* 3 characters/);
  assert.match(await page.textContent("#library-error"), /garbage\.bin: not_a_card/);
  assert.deepEqual(await names(), ["Aria Vance", "Borin Ironhand", "Charx Carla"]);
  // PNG and CharX cards keep their avatar image; the JSON card gets a letter (avatars come in
  // after the grid is drawn).
  await avatarsShown(2);
  const avatars = await page.$$eval("#library-grid .character", (els) => els.map((e) => e.querySelector("img.avatar")?.naturalWidth ?? 0));
  assert.equal(avatars[0], 0);
  assert.ok(avatars[1] > 0 && avatars[2] > 0, `avatars: ${avatars}`);
  // A PNG card's avatar is kept without the card chunks (the card is the character itself).
  const kept = await page.evaluate(async () => {
    const engine = await import("/pkg/nextchat_tavern.js");
    const store = await (await import("/js/tavern.js")).openStore(engine);
    const borin = (await store.listCharacters({ query: "borin", withCard: false })).items[0];
    const bytes = new Uint8Array(await (await store.getAssetBlob(borin.avatarAssetId)).arrayBuffer());
    const text = new TextDecoder("latin1").decode(bytes);
    return { size: bytes.length, png: bytes[1] === 0x50 && bytes[2] === 0x4e, chara: text.includes("chara\0"), card: "card" in borin };
  });
  assert.deepEqual({ ...kept, size: undefined }, { size: undefined, png: true, chara: false, card: false });
  assert.ok(kept.size > 0 && kept.size < statSync(fixture("v2_basic.png")).size, `avatar of ${kept.size} bytes`);

  // Create one by hand; card text is untrusted and must stay text.
  await page.fill("#library-new-name", "Zed <img src=x onerror=alert(1)>");
  await page.fill("#library-new-tags", "manual, Fantasy");
  await page.click("#library-create button[type=submit]");
  await statusIs(/4 characters/);
  assert.equal(await page.$$eval("#library-grid img[src=x]", (e) => e.length), 0, "no HTML from card text");
  assert.ok((await names()).includes("Zed <img src=x onerror=alert(1)>"));

  // Search by name (substring, case-insensitive).
  await page.fill("#library-search", "ar");
  await statusIs(/^2 characters match/);
  assert.deepEqual(await names(), ["Aria Vance", "Charx Carla"]);
  await page.fill("#library-search", "");
  await statusIs(/^4 characters ·/);

  // Tag filter: case-insensitive tags are offered once.
  const tags = await page.$$eval("#library-tag option", (els) => els.map((e) => e.value));
  assert.deepEqual(tags.filter((t) => t.toLowerCase() === "fantasy").length, 1, `tags: ${tags}`);
  await page.selectOption("#library-tag", tags.find((t) => t.toLowerCase() === "fantasy"));
  await statusIs(/^2 characters match/);
  assert.deepEqual(await names(), ["Borin Ironhand", "Zed <img src=x onerror=alert(1)>"]);
  await page.selectOption("#library-tag", "");
  await statusIs(/^4 characters ·/);

  // Delete with undo, then delete for good.
  await page.click("#library-grid .character:has-text('Charx Carla') button.delete");
  await statusIs(/^3 characters/);
  assert.match(await page.textContent("#library-undo"), /Deleted Charx Carla/);
  await page.click("#library-undo-button");
  await statusIs(/^4 characters/);
  assert.ok((await names()).includes("Charx Carla"));
  await page.click("#library-grid .character:has-text('Aria Vance') button.delete");
  await statusIs(/^3 characters/);

  // A reload keeps everything (and not the deleted one). The redrawn grid's avatars are loaded
  // first: a reload while they still load aborts them (a failed request, not an app error).
  await avatarsShown(2);
  await page.reload();
  await statusIs(/^3 characters · saved in this browser/);
  assert.deepEqual(await names(), ["Borin Ironhand", "Charx Carla", "Zed <img src=x onerror=alert(1)>"]);
  await avatarsShown(2);
  const after = await page.$$eval("#library-grid .character", (els) => els.map((e) => e.querySelector("img.avatar")?.naturalWidth ?? 0));
  assert.ok(after[0] > 0 && after[1] > 0, "avatars survive the reload");
});

test("settings: a message per bad field, valid changes saved and kept across a reload", async () => {
  await page.goto(new URL("#/settings", url).href);
  await page.waitForSelector("#set-generation-temperature");
  await page.fill("#set-generation-temperature", "5");
  await page.fill("#set-theme-accent", "red");
  await page.fill("#set-backend-baseUrl", "ftp://nope");
  await page.click("#settings-save");
  await page.waitForFunction(() => /Not saved/.test(document.getElementById("settings-status").textContent));
  const msg = (id) => page.textContent(`#${id}-msg`);
  assert.match(await msg("set-generation-temperature"), /between 0 and 2/);
  assert.match(await msg("set-theme-accent"), /#rrggbb/);
  assert.match(await msg("set-backend-baseUrl"), /http\(s\) URL/);
  assert.equal(await page.$$eval("#settings-errors li", (els) => els.length), 3);
  assert.equal(await page.getAttribute("#set-theme-accent", "aria-invalid"), "true");

  await page.fill("#set-generation-temperature", "0.9");
  await page.fill("#set-theme-accent", "#336699");
  await page.fill("#set-backend-baseUrl", "https://llm.example/v1");
  await page.selectOption("#set-theme-mode", "dark");
  await page.click("#settings-save");
  await page.waitForFunction(() => document.getElementById("settings-status").textContent === "Saved.");
  assert.equal(await page.$$eval("#settings-errors li", (els) => els.length), 0);
  assert.equal(await page.getAttribute("html", "data-theme"), "dark", "the theme applies at once");

  await page.reload();
  await page.waitForSelector("#set-generation-temperature");
  assert.equal(await page.inputValue("#set-generation-temperature"), "0.9");
  assert.equal(await page.inputValue("#set-theme-accent"), "#336699");
  assert.equal(await page.inputValue("#set-backend-baseUrl"), "https://llm.example/v1");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
});

test("no console errors", () => {
  assert.deepEqual(errors, []);
});

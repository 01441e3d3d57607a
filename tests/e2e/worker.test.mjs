// The package's Web Worker helper in headless Chromium: `TavernWorker` (worker-client.js) runs the
// engine's calls in worker.js, maps errors back to TavernErrors, keeps compiled lorebooks in the
// worker, and leaves the page's main thread free while it works. Run `make pkg` first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "./browser.mjs";

let server, url, browser;
before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function page() {
  const p = await browser.context.newPage();
  const all = collectErrors(p);
  // The favicon request of the bare test page is the only 404 allowed.
  const errors = { get list() { return all.filter((e) => !/404/.test(e) && !/favicon/.test(e)); } };
  await p.goto(new URL("/pkg/package.json", url).href);
  return { p, errors };
}

test("buildPrompt, scanLorebooks, importCard and compiled lorebooks through the worker", async () => {
  const { p, errors } = await page();
  const r = await p.evaluate(async () => {
    const { TavernWorker } = await import("/pkg/worker-client.js");
    const tw = new TavernWorker();
    const book = { entries: { 0: { uid: 0, key: ["dragon"], content: "Dragons hoard gold." } } };
    const req = { character: { spec: "chara_card_v3", data: { name: "Nova", description: "A pilot." } },
      persona: { name: "You" }, chat: [{ name: "You", isUser: true, mes: "Tell me of the dragon." }],
      lorebooks: [{ name: "lore", book }] };
    const out = await tw.buildPrompt(req);
    const lore = await tw.compileLorebook("lore", book);
    const viaMatcher = await tw.buildPrompt({ ...req, lorebooks: [{ name: "lore", matcher: lore }] });
    const scan = await tw.scanLorebooks({ lorebooks: [{ name: "lore", matcher: lore }], chat: req.chat });
    const freed = await tw.freeLorebook(lore);
    let afterFree = null;
    try { await tw.buildPrompt({ ...req, lorebooks: [{ name: "lore", matcher: lore }] }); } catch (e) { afterFree = e.code; }
    const bytes = new TextEncoder().encode(JSON.stringify({ spec: "chara_card_v2", spec_version: "2.0", data: { name: "Wren", description: "d" } }));
    const card = await tw.importCard(bytes);
    const version = await tw.version();
    tw.terminate();
    return { last: out.messages.at(-1).content, lore: out.messages.some((m) => m.content.includes("Dragons hoard gold.")),
      same: JSON.stringify(out.messages) === JSON.stringify(viaMatcher.messages), scanned: scan.activated.map((e) => e.uid),
      freed, afterFree, name: card.card.data.name, version };
  });
  assert.equal(r.last, "Tell me of the dragon.");
  assert.ok(r.lore, "the lorebook entry is in the prompt");
  assert.ok(r.same, "a worker-compiled lorebook gives the same prompt as the book");
  assert.deepEqual(r.scanned, [0]);
  assert.equal(r.freed, true);
  assert.equal(r.afterFree, "invalid_argument");
  assert.equal(r.name, "Wren");
  assert.match(r.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(errors.list, []);
  await p.close();
});

test("errors come back as TavernErrors with the engine's code; terminate rejects what is waiting", async () => {
  const { p, errors } = await page();
  const r = await p.evaluate(async () => {
    const { TavernWorker } = await import("/pkg/worker-client.js");
    const pkg = await import("/pkg/nextchat_tavern.js");
    await pkg.default();
    const { isTavernError } = pkg;
    const tw = new TavernWorker();
    const caught = async (f) => { try { await f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message, is: isTavernError(e) }; } };
    const typo = await caught(() => tw.buildPrompt({ character: { name: "A" }, chat: [], lorebook: [] }));
    const notCard = await caught(() => tw.importCard(new Uint8Array([1, 2, 3])));
    const unknown = await caught(() => tw.call("eval", "1"));
    const notCloneable = await caught(() => tw.buildPrompt({ character: { name: "A" }, chat: [], countTokens: () => 1 }));
    const pending = tw.buildPrompt({ character: { name: "A" }, chat: [] });
    tw.terminate();
    const terminated = await caught(() => pending);
    const afterwards = await caught(() => tw.version());
    return { typo, notCard, unknown, notCloneable, terminated, afterwards };
  });
  assert.equal(r.typo.name, "TavernError");
  assert.equal(r.typo.code, "invalid_argument");
  assert.match(r.typo.message, /unknown field `lorebook`.*did you mean `lorebooks`/);
  assert.ok(r.typo.is, "isTavernError accepts the mapped error");
  assert.equal(r.notCard.code, "not_a_card");
  assert.equal(r.unknown.code, "invalid_argument");
  assert.equal(r.notCloneable.code, "invalid_argument");
  assert.ok(r.terminated, "a call waiting when the worker is terminated rejects");
  assert.ok(r.afterwards, "calls after terminate reject");
  assert.deepEqual(errors.list, []);
  await p.close();
});

test("the main thread keeps running while the worker compiles a 6,000-entry lorebook", async () => {
  const { p, errors } = await page();
  const r = await p.evaluate(async () => {
    const { TavernWorker } = await import("/pkg/worker-client.js");
    const tw = new TavernWorker();
    await tw.version(); // the module is loaded
    const entries = {};
    for (let i = 0; i < 6000; i++) {
      entries[i] = { uid: i, key: [`name${i}`, `place${i % 97}`], content: `Entry ${i}: ${"lore text ".repeat(60)}` };
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const out = await tw.buildPrompt({ character: { name: "A" }, persona: { name: "You" },
      chat: [{ name: "You", isUser: true, mes: "name42 went to place3" }], lorebooks: [{ name: "big", book: { entries } }] });
    clearInterval(timer);
    tw.terminate();
    return { ticks, activated: out.report.worldInfo.activated.length };
  });
  assert.ok(r.activated >= 1);
  assert.ok(r.ticks >= 1, `timers ran on the main thread during the call (${r.ticks} ticks)`);
  assert.deepEqual(errors.list, []);
  await p.close();
});

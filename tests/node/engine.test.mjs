// The prompt engine's JS API through the built package: golden SillyTavern cases recorded from
// the real 1.19 give the same answers through renderMacros / scanLorebooks as through the Rust API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

const dir = new URL("../../pkg/", import.meta.url);
const m = await import(new URL("nextchat_tavern.js", dir));
m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });
const golden = new URL("../fixtures/st-golden/", import.meta.url);
const load = (f) => JSON.parse(readFileSync(new URL(f, golden), "utf8"));

test("renderMacros: card macros match SillyTavern", () => {
  const c = load("macro-card-1.json");
  const ctx = c.context;
  const out = m.renderMacros(c.input, {
    char: ctx.char, user: ctx.user, description: ctx.description, personality: ctx.personality,
    scenario: ctx.scenario, persona: ctx.persona, mesExample: ctx.mes_example, firstMes: ctx.first_mes,
    creatorNotes: ctx.creator_notes, depthPrompt: ctx.depth_prompt, charVersion: ctx.char_version,
    chat: ctx.chat.map((x) => ({ name: x.name, isUser: x.is_user, mes: x.mes })),
  });
  assert.equal(out.output, c.expected.output);
});

test("renderMacros: unknown macros stay as written; variables persist in the output state", () => {
  const out = m.renderMacros("{{setvar::mood::calm}}{{getvar::mood}} {{nosuchmacro}}", { char: "A", user: "B" });
  assert.equal(out.output, "calm {{nosuchmacro}}");
  assert.equal(out.localVariables.mood, "calm");
});

test("scanLorebooks: every single-turn plain-key case activates what SillyTavern activated", () => {
  const files = readdirSync(golden).filter((f) => /^wi-keys-plain-\d+\.json$/.test(f));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const c = load(f);
    const turn = c.turns[0];
    const res = m.scanLorebooks({
      lorebooks: [{ name: c.lorebook_name, source: "global", book: c.lorebook }],
      chat: c.chat.slice(0, turn.messages).map((x) => ({ name: x.name, isUser: !!x.is_user, isSystem: !!x.is_system, mes: x.mes })),
      settings: c.settings,
      maxContext: c.max_context,
      character: { name: c.character.name, avatar: c.character.avatar },
      macros: { char: c.character.name, user: c.user },
      trigger: turn.trigger,
    });
    assert.deepEqual(res.activated.map((e) => e.uid), turn.expected.activated_uids, f);
    assert.equal(res.worldInfoBefore, turn.expected.world_info_before, f);
  }
});

test("buildPrompt returns OpenAI messages, a report, and rejects bad input with a TavernError", () => {
  const out = m.buildPrompt({
    character: { spec: "chara_card_v3", data: { name: "Nova", description: "A pilot.", first_mes: "Hi" } },
    persona: { name: "You" },
    chat: [{ name: "You", isUser: true, mes: "Hello" }],
  });
  assert.ok(out.messages.length >= 2);
  assert.equal(out.messages.at(-1).role, "user");
  assert.equal(out.messages.at(-1).content, "Hello");
  assert.ok(out.messages.some((x) => x.content.includes("A pilot.")));
  assert.ok(out.report.totalTokens > 0);
  assert.throws(() => m.buildPrompt({ character: 42, chat: "nope" }), (e) => m.isTavernError(e) && e.code === "invalid_argument");
});

const card = { spec: "chara_card_v3", data: { name: "Nova", description: "A pilot.", first_mes: "Hi",
  alternate_greetings: [], extensions: { talkativeness: "0.5", custom_tool: { x: 1 } } } };
const dragonBook = { entries: { 0: { uid: 0, key: ["dragon"], content: "Dragons hoard gold.", extensions: { vendor_field: true } } } };
const ask = [{ name: "You", isUser: true, mes: "Tell me about the dragon.", extra: { api: "openai" }, gen_started: "x" }];
const invalid = (re) => (e) => m.isTavernError(e) && e.code === "invalid_argument" && re.test(e.message);

test("buildPrompt names unknown or misspelled fields, with their path and a hint", () => {
  assert.throws(() => m.buildPrompt({ character: card, chat: ask, lorebook: [{ name: "l", book: dragonBook }] }),
    invalid(/unknown field `lorebook` in buildPrompt request \(did you mean `lorebooks`\?\)/));
  assert.throws(() => m.buildPrompt({ character: card, chat: ask, settings: { dept: 0 } }), invalid(/`settings\.dept`/));
  assert.throws(() => m.buildPrompt({ character: card, chat: ask, worldInfo: { dept: 0 } }), invalid(/`worldInfo\.dept`.*did you mean `depth`/));
  assert.throws(() => m.buildPrompt({ character: card, chat: ask, lorebooks: [{ name: "l", bok: dragonBook }] }),
    invalid(/`lorebooks\[0\]\.bok`.*did you mean `book`/));
  assert.throws(() => m.scanLorebooks({ lorebooks: [], chat: ask, setings: {} }), invalid(/unknown field `setings` in scanLorebooks request \(did you mean `settings`\?\)/));
  // Card extensions, lorebook entry extensions and SillyTavern's message fields pass through.
  const out = m.buildPrompt({ character: card, chat: ask, lorebooks: [{ name: "l", book: dragonBook }], authorsNote: undefined });
  assert.ok(out.messages.some((x) => x.content.includes("Dragons hoard gold.")));
});

test("buildPrompt settings accept SillyTavern's names as the World Info settings do", () => {
  const st = m.buildPrompt({ character: card, chat: ask, settings: { openai_max_context: 2000, openai_max_tokens: 500, wi_format: "[{0}]" },
    worldInfo: { world_info_depth: 2, world_info_overflow_alert: false }, lorebooks: [{ name: "l", book: dragonBook }] });
  assert.equal(st.report.budget, 1500);
  assert.ok(st.messages.some((x) => x.content === "[Dragons hoard gold.]"));
  const camel = m.buildPrompt({ character: card, chat: ask, settings: { maxContext: 2000, maxTokens: 500 } });
  assert.equal(camel.report.budget, 1500);
});

test("{{char}} and {{user}} in lorebook keys come from the request's character and persona", () => {
  const book = { entries: { 0: { uid: 0, key: ["{{user}}'s ship"], content: "U" }, 1: { uid: 1, key: ["{{char}}'s sword"], content: "C" } } };
  const chat = [{ name: "Sam", isUser: true, mes: "Is Sam's ship near Nova's sword?" }];
  const res = m.scanLorebooks({ lorebooks: [{ name: "b", book }], chat, character: { name: "Nova" }, persona: { name: "Sam" } });
  assert.deepEqual(res.activated.map((e) => e.uid).sort(), [0, 1]);
  const built = m.buildPrompt({ character: card, persona: { name: "Sam" }, chat, lorebooks: [{ name: "b", book }] });
  assert.deepEqual(built.report.worldInfo.activated.map((e) => e.uid).sort(), [0, 1]);
});

test("a cacheKey stands for the book's content: a known key does not read the book, a new key does", () => {
  const book = structuredClone(dragonBook);
  const key = `char-${Math.random()}@1`;
  const req = (b, cacheKey) => ({ character: card, chat: ask, lorebooks: [{ name: "l", source: "character", book: b, cacheKey }] });
  const a = m.buildPrompt(req(book, key));
  assert.ok(a.messages.some((x) => x.content.includes("Dragons hoard gold.")));
  // Same key: the book passed is not read (here it even differs, or is missing).
  const changed = structuredClone(book);
  changed.entries[0].content = "Dragons sleep on silver.";
  assert.deepEqual(m.buildPrompt(req(changed, key)), a);
  assert.deepEqual(m.buildPrompt(req(undefined, key)), a);
  // A new key (the next revision) reads and compiles the book it comes with.
  const b = m.buildPrompt(req(changed, key.replace("@1", "@2")));
  assert.ok(b.messages.some((x) => x.content.includes("Dragons sleep on silver.")));
  assert.ok(!b.messages.some((x) => x.content.includes("Dragons hoard gold.")));
  assert.throws(() => m.buildPrompt(req(undefined, `${key}-unknown`)), invalid(/lorebooks\[0\]\.book` is missing/));
  assert.throws(() => m.buildPrompt(req(book, 7)), invalid(/`lorebooks\[0\]\.cacheKey` must be a string/));
  assert.throws(() => m.buildPrompt({ ...req(book), lorebooks: [{ name: "l", book, cachekey: key }] }), invalid(/did you mean `cacheKey`/));
});

test("repeated builds reuse the compiled book but see every change; a LorebookMatcher can be passed", () => {
  const book = structuredClone(dragonBook);
  const req = { character: card, chat: ask, lorebooks: [{ name: "l", source: "character", book }] };
  const a = m.buildPrompt(req);
  assert.deepEqual(m.buildPrompt(req), a);
  book.entries[0].content = "Dragons sleep on silver.";
  const changed = m.buildPrompt(req);
  assert.ok(changed.messages.some((x) => x.content.includes("Dragons sleep on silver.")));
  assert.ok(!changed.messages.some((x) => x.content.includes("Dragons hoard gold.")));
  const matcher = new m.LorebookMatcher("l", book, undefined, "character");
  assert.deepEqual(m.buildPrompt({ ...req, lorebooks: [{ matcher }] }), changed);
  const cs = new m.LorebookMatcher("l", book, { caseSensitive: true });
  assert.throws(() => m.buildPrompt({ ...req, lorebooks: [{ matcher: cs }] }), invalid(/other World Info settings/));
  matcher.free();
  assert.throws(() => m.buildPrompt({ ...req, lorebooks: [{ matcher }] }), invalid(/not a live LorebookMatcher/));
  cs.free();
});

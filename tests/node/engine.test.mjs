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

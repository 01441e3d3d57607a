#!/usr/bin/env node
// Records golden text-completion prompts (instruct mode) from a real SillyTavern 1.19 into
// tests/fixtures/st-golden-local/ (schema: that folder's README.md). A dev tool, not part of CI:
// CI runs tests/golden_instruct.rs on the committed fixtures.
//
//   node scripts/record-instruct-golden.mjs [--only <text>] [--out <dir>] [--keep-st]
//
// What it does: installs/starts SillyTavern from npm (scripts/sillytavern.sh, bound to 127.0.0.1,
// fresh data dir), starts scripts/fake-openai.mjs in recording mode on 127.0.0.1, opens ST's own
// web UI in headless Chromium (tests/e2e/browser.mjs, playwright-core + the system Chromium),
// switches it to Text Completion → "Generic (OpenAI-compatible)" pointed at the fake, tokenizer
// "None / estimated", and then for every case: selects the instruct template and turns instruct
// mode on, imports the case's card through ST's character import API, selects it, sets persona
// name and description, the case's lorebook (saved through ST's World Info API, made the only
// global book) and author's note (through its panel), replaces the chat with the case's chat and
// runs ST's own Generate(type). It stores what the page sent to ST's server (the prompt and the
// full stopping-string list), what the fake upstream received, and the settings in effect read
// back from ST. Every case runs twice (two passes over all cases, in one ST); the script fails if
// the two runs differ. Nothing is edited by hand afterwards.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, collectErrors } from "../tests/e2e/browser.mjs";
import { freePort } from "../tests/st/harness.mjs";
import { startFakeOpenAI } from "./fake-openai.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outDir = arg("--out") ?? join(root, "tests/fixtures/st-golden-local");
const only = arg("--only");
const ST_VERSION = process.env.ST_VERSION ?? "1.19.0";

// Our template name (src/prompt/instruct.rs) → SillyTavern 1.19's instruct preset.
const TEMPLATES = {
  chatml: "ChatML",
  llama3: "Llama 3 Instruct",
  mistral: "Mistral V7",
  "mistral-v2-v3": "Mistral V2 & V3",
  alpaca: "Alpaca",
  vicuna: "Vicuna 1.1",
  gemma: "Gemma 2",
  "command-r": "Command R",
};

// ---------------------------------------------------------------------------------------------
// Case inputs (written for these tests).

/** A full SillyTavern World Info entry. */
function wiEntry(uid, key, content, position, extra = {}) {
  return {
    uid, key, keysecondary: [], comment: "", content, constant: false, vectorized: false, selective: true,
    selectiveLogic: 0, addMemo: false, order: 100, position, disable: false, ignoreBudget: false,
    excludeRecursion: false, preventRecursion: false, matchPersonaDescription: false,
    matchCharacterDescription: false, matchCharacterPersonality: false, matchCharacterDepthPrompt: false,
    matchScenario: false, matchCreatorNotes: false, delayUntilRecursion: 0, probability: 100,
    useProbability: true, depth: 4, outletName: "", group: "", groupOverride: false, groupWeight: 100,
    scanDepth: null, caseSensitive: null, matchWholeWords: null, useGroupScoring: null, automationId: "",
    role: 0, sticky: null, cooldown: null, delay: null, triggers: [], ...extra,
  };
}

function card(data) {
  return {
    spec: "chara_card_v2",
    spec_version: "2.0",
    data: {
      name: "", description: "", personality: "", scenario: "", first_mes: "", mes_example: "",
      creator_notes: "", system_prompt: "", post_history_instructions: "", alternate_greetings: [],
      tags: [], creator: "golden-tests", character_version: "1",
      extensions: { talkativeness: "0.5", fav: false, world: "", depth_prompt: { prompt: "", depth: 4, role: "system" } },
      ...data,
    },
  };
}

const innkeeper = card({
  name: "Aldric",
  description: "{{char}} is a weathered innkeeper in the mountain town of Emberfall.",
  personality: "gruff, kind, observant",
  scenario: "{{user}} arrives at {{char}}'s inn during a snowstorm.",
  first_mes: "*wipes the counter* Evening. Shut the door, you're letting the snow in.",
  mes_example:
    "<START>\n{{user}}: Any rooms left?\n{{char}}: One. Top of the stairs, second door.\n" +
    "<START>\n{{user}}: What's good here?\n{{char}}: The stew.\n{{char}}: Always the stew.\n{{user}}: Then stew it is.",
});

const persona = { name: "Wren", description: "{{user}} is a traveling cartographer with ink-stained fingers." };

const innChat = [
  { name: "Aldric", is_user: false, mes: "*wipes the counter* Evening. Shut the door, you're letting the snow in." },
  { name: "Wren", is_user: true, mes: "Sorry! *stamps the snow off her boots* Is there a room free?" },
  { name: "Aldric", is_user: false, mes: "One left.\n*slides a brass key across the counter* Ten coins a night." },
  { name: "Wren", is_user: true, mes: "Here. And something hot to eat, please." },
];

const continueChat = [
  ...innChat,
  { name: "Aldric", is_user: false, mes: "*ladles stew into a bowl* Careful, it's" },
];

const featuresCard = card({
  ...innkeeper.data,
  mes_example: "",
  system_prompt: "You are {{char}}. {{original}}",
  post_history_instructions: "Stay in character as {{char}}; keep replies short.",
  extensions: {
    ...innkeeper.data.extensions,
    depth_prompt: { prompt: "{{char}} is worried about the storm.", depth: 2, role: "system" },
  },
});

const featuresBook = {
  entries: {
    0: wiEntry(0, ["stew"], "Emberfall stew is made with mountain goat and juniper.", 0),
    1: wiEntry(1, ["stew"], "The inn's kitchen closes at midnight.", 1),
    2: wiEntry(2, ["stew"], "(Wren has not eaten since morning.)", 4, { depth: 1, role: 1 }),
    3: wiEntry(3, ["dragon"], "not triggered", 0),
  },
};

const featuresChat = [
  ...innChat.slice(0, 3),
  { name: "Wren", is_user: true, mes: "Here. Is the stew any good?" },
];

const userFirstCard = card({
  name: "Mira",
  description: "{{char}} is a ship's navigator who answers in short sentences.",
  first_mes: "",
});

const userFirstChat = [
  { name: "Wren", is_user: true, mes: "Which way is north?" },
  { name: "Mira", is_user: false, mes: "Left of the mast." },
  { name: "Wren", is_user: true, mes: "And the nearest port?" },
];

const base = { card: innkeeper, persona, chat: innChat, lorebook: null, authors_note: null };

/** Every case: [template, n, feature, generation type, description, inputs]. */
const CASE_LIST = [
  ...Object.keys(TEMPLATES).map((t) => [t, 1, "plain", "normal",
    "Card with description, personality, scenario and two example blocks (one with two lines in a row by the character), persona description, four-message chat starting with the greeting; normal generation.", base]),
  ...["chatml", "llama3", "mistral", "alpaca"].map((t) => [t, 2, "impersonate", "impersonate",
    "The plain case's inputs, generation type impersonate (the prompt ends with the user's prefix).", base]),
  ...["chatml", "llama3", "mistral", "alpaca"].map((t) => [t, 3, "continue", "continue",
    "The plain case's inputs with an unfinished last character message; generation type continue (the prompt ends inside that message).", { ...base, chat: continueChat }]),
  ...["chatml", "llama3", "mistral-v2-v3", "alpaca"].map((t) => [t, 4, "features", "normal",
    "Card system prompt with {{original}}, post-history instructions, character depth prompt (depth 2), a global lorebook (before / after / @depth 1 user) and an author's note at depth 3.",
    { card: featuresCard, persona, chat: featuresChat, lorebook: featuresBook,
      authors_note: { note_prompt: "[Mood: cozy; the storm rages outside]", note_interval: 1, note_depth: 3, note_position: 1, note_role: 0 } }]),
  ...["chatml", "mistral-v2-v3"].map((t) => [t, 5, "user-first", "normal",
    "Card with only a description and no greeting; the chat starts with a user message (no user alignment message needed); no persona description.",
    { card: userFirstCard, persona: { name: "Wren", description: "" }, chat: userFirstChat, lorebook: null, authors_note: null }]),
];

const CASES = CASE_LIST.map(([template, n, feature, type, description, inputs]) => ({
  id: `prompt-instruct-${template}-${n}`,
  template,
  st_template: TEMPLATES[template],
  feature,
  generation_type: type,
  description,
  ...inputs,
})).filter((c) => !only || c.id.includes(only));

// ---------------------------------------------------------------------------------------------
// In the page (these functions run in ST's web UI; they only call ST's own modules and API).

async function pageSetup({ fakeUrl, personaName }) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const s = await import("/script.js");
  // A fresh user gets a welcome popup that asks for a persona name; start-up waits for it.
  let answered = 0;
  for (let i = 0; i < 600 && !s.settingsReady; i++) {
    const d = [...document.querySelectorAll("dialog[open]")].find((x) => x.querySelector(".popup-button-ok") && x.querySelector("input[type=text], textarea, input:not([type])"));
    if (d && i % 10 === 9) {
      const input = d.querySelector("input[type=text], textarea, input:not([type])");
      input.value = personaName;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      d.querySelector(".popup-button-ok").click();
      answered++;
    }
    await sleep(100);
  }
  if (!s.settingsReady) throw new Error(`SillyTavern's settings did not load (welcome popup answered ${answered} times)`);
  const $ = window.jQuery;
  // Wait for the end of ST's start-up (its persona panel handlers are bound late).
  const bound = () => !!$._data($("#persona_description")[0], "events")?.input;
  for (let i = 0; i < 600 && !bound(); i++) await sleep(100);
  if (!bound()) throw new Error(`SillyTavern's UI did not finish starting (open: ${[...document.querySelectorAll("dialog[open]")].map((x) => x.innerText.slice(0, 60))})`);
  $("#main_api").val("textgenerationwebui").trigger("change");
  await sleep(300);
  $("#textgen_type").val("generic").trigger("change");
  await sleep(300);
  $("#generic_api_url_text").val(fakeUrl).trigger("input");
  await sleep(200);
  document.querySelector("#api_button_textgenerationwebui").click();
  for (let i = 0; i < 100 && s.online_status === "no_connection"; i++) await sleep(100);
  $("#tokenizer").val("0").trigger("change");
  await sleep(200);
  const pu = (await import("/scripts/power-user.js")).power_user;
  const version = (s.displayVersion.match(/SillyTavern \d+\.\d+\.\d+/) ?? [s.displayVersion])[0];
  return { version, online: s.online_status, tokenizer: pu.tokenizer, main_api: s.main_api };
}

async function pageRunCase(c) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const $ = window.jQuery;
  const s = await import("/script.js");
  const pu = (await import("/scripts/power-user.js")).power_user;
  const wi = await import("/scripts/world-info.js");
  const tg = (await import("/scripts/textgen-settings.js")).textgenerationwebui_settings;
  const ctx = window.SillyTavern.getContext();

  // Instruct template, instruct mode on (the context template stays a fresh user's "Default").
  $("#instruct_presets").val(c.st_template).trigger("change");
  await sleep(300);
  $("#instruct_enabled").prop("checked", true).trigger("input").trigger("change");
  await sleep(100);
  if (pu.instruct.preset !== c.st_template || !pu.instruct.enabled) throw new Error(`instruct preset not applied: ${pu.instruct.preset}`);

  // The card, through ST's character import API.
  const fd = new FormData();
  fd.append("avatar", new File([JSON.stringify(c.card)], `${c.card.data.name}.json`, { type: "application/json" }));
  fd.append("file_type", "json");
  const r = await fetch("/api/characters/import", { method: "POST", headers: s.getRequestHeaders({ omitContentType: true }), body: fd, cache: "no-cache" });
  if (!r.ok) throw new Error(`import: HTTP ${r.status}`);
  const { file_name } = await r.json();
  await s.getCharacters();
  const id = s.characters.findIndex((x) => x.avatar === `${file_name}.png`);
  if (id < 0) throw new Error(`imported character ${file_name} not found`);
  await s.selectCharacterById(id);
  for (let i = 0; i < 100 && (String(s.this_chid) !== String(id) || !s.getCurrentChatId()); i++) await sleep(100);
  await sleep(500);

  // Persona (the description is set through its panel until ST reads it back).
  s.setUserName(c.persona.name, { toastPersonaNameChange: false });
  for (let i = 0; i < 5 && (i === 0 || pu.persona_description !== c.persona.description); i++) {
    $("#persona_description").val(c.persona.description).trigger("input");
    await sleep(400);
  }
  if (s.name1 !== c.persona.name || pu.persona_description !== c.persona.description) throw new Error(`persona not applied: ${s.name1}, ${JSON.stringify(pu.persona_description)}`);

  // Lorebook: saved through the World Info API, the only global book (or none).
  await ctx.executeSlashCommandsWithOptions("/world silent=true");
  if (c.lorebook) {
    const name = `golden_${c.id}`;
    const w = await fetch("/api/worldinfo/edit", { method: "POST", headers: s.getRequestHeaders(), body: JSON.stringify({ name, data: c.lorebook }) });
    if (!w.ok) throw new Error(`worldinfo/edit: HTTP ${w.status}`);
    await wi.updateWorldInfoList();
    await ctx.executeSlashCommandsWithOptions(`/world silent=true ${name}`);
    if (wi.selected_world_info.length !== 1 || wi.selected_world_info[0] !== name) throw new Error(`world not selected: ${JSON.stringify(wi.selected_world_info)}`);
  } else if (wi.selected_world_info.length !== 0) {
    throw new Error("a world is still selected");
  }

  // Author's note, through its panel (chat metadata), or empty.
  const an = c.authors_note ?? { note_prompt: "", note_interval: 1, note_depth: 4, note_position: 1, note_role: 0 };
  $("#extension_floating_prompt").val(an.note_prompt).trigger("input");
  $("#extension_floating_interval").val(an.note_interval).trigger("input");
  $("#extension_floating_depth").val(an.note_depth).trigger("input");
  $(`input[name="extension_floating_position"][value="${an.note_position}"]`).prop("checked", true).trigger("change");
  $("#extension_floating_role").val(String(an.note_role)).trigger("input").trigger("change");
  await sleep(200);
  const md = s.chat_metadata;
  const anBack = { note_prompt: md.note_prompt ?? "", note_interval: md.note_interval, note_depth: md.note_depth, note_position: md.note_position, note_role: md.note_role };

  // The chat, replacing the greeting chat.
  const date = "2026-01-01T00:00:00.000Z";
  s.chat.splice(0, s.chat.length, ...c.chat.map((m) => ({ name: m.name, is_user: m.is_user, is_system: false, send_date: date, mes: m.mes, extra: {} })));
  await s.printMessages();
  await s.saveChatConditional();
  $("#send_textarea").val("").trigger("input");
  await sleep(200);

  const readBack = () => ({
    sillytavern: (s.displayVersion.match(/SillyTavern \d+\.\d+\.\d+/) ?? [s.displayVersion])[0],
    main_api: s.main_api,
    textgen_type: tg.type,
    streaming: tg.streaming,
    max_context: s.max_context,
    amount_gen: s.amount_gen,
    tokenizer: pu.tokenizer,
    instruct: structuredClone(pu.instruct),
    context: structuredClone(pu.context),
    sysprompt: structuredClone(pu.sysprompt),
    prefer_character_prompt: pu.prefer_character_prompt,
    prefer_character_jailbreak: pu.prefer_character_jailbreak,
    persona_description_position: pu.persona_description_position,
    persona_description: pu.persona_description,
    user_name: s.name1,
    character_name: s.name2,
    trim_spaces: pu.trim_spaces,
    collapse_newlines: pu.collapse_newlines,
    world_info: { ...wi.getWorldInfoSettings(), world_info: undefined, selected: [...wi.selected_world_info] },
    authors_note: anBack,
  });
  const before = readBack();
  if (before.persona_description !== c.persona.description || before.user_name !== c.persona.name) throw new Error("persona changed before Generate");
  await s.Generate(c.generation_type);
  await sleep(300);
  return { settings: before };
}

// ---------------------------------------------------------------------------------------------
// Node side.

function stable(v) {
  return JSON.stringify(v);
}

async function main() {
  if (!CASES.length) throw new Error(`no case matches --only ${only}`);
  execFileSync("bash", ["scripts/sillytavern.sh", "install"], { cwd: root, stdio: "inherit" });
  const fake = await startFakeOpenAI({ record: true });
  const stPort = await freePort();
  execFileSync("bash", ["scripts/sillytavern.sh", "start", String(stPort)], { cwd: root, stdio: "inherit" });
  const browser = await launch();
  const cleanup = async () => {
    await browser.close().catch(() => {});
    fake.close();
    if (!process.argv.includes("--keep-st")) {
      execFileSync("bash", ["scripts/sillytavern.sh", "stop", String(stPort)], { cwd: root, stdio: "inherit" });
    }
  };
  try {
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    const sent = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/api/backends/text-completions/generate")) sent.push(JSON.parse(r.postData()));
    });
    await page.goto(`http://127.0.0.1:${stPort}/`);
    const setup = await page.evaluate(pageSetup, { fakeUrl: fake.url, personaName: persona.name });
    console.log(`[record] ${setup.version}, api ${setup.main_api}, status ${setup.online}, tokenizer ${setup.tokenizer}`);
    if (setup.main_api !== "textgenerationwebui" || setup.online === "no_connection" || setup.tokenizer !== 0) {
      throw new Error(`setup failed: ${JSON.stringify(setup)}`);
    }
    if (!setup.version.includes(ST_VERSION)) throw new Error(`expected SillyTavern ${ST_VERSION}, got ${setup.version}`);

    const runs = [new Map(), new Map()];
    for (const [pass, results] of runs.entries()) {
      for (const c of CASES) {
        sent.length = 0;
        fake.requests.length = 0;
        const { settings } = await page.evaluate(pageRunCase, c).catch((e) => {
          throw new Error(`${c.id}: ${e.message}\npage errors:\n${errors.join("\n")}`);
        });
        const gen = sent.splice(0);
        const upstream = fake.requests.splice(0);
        if (gen.length !== 1 || upstream.length !== 1) {
          throw new Error(`${c.id}: expected one request each, got ${gen.length} from the page and ${upstream.length} upstream; page errors: ${errors.join("\n")}`);
        }
        results.set(c.id, { settings, page: gen[0], upstream: upstream[0] });
        console.log(`[record] pass ${pass + 1}: ${c.id}`);
      }
    }

    mkdirSync(outDir, { recursive: true });
    const index = [];
    for (const c of CASES) {
      const a = runs[0].get(c.id);
      const b = runs[1].get(c.id);
      const same = stable(a.page) === stable(b.page) && stable(a.upstream) === stable(b.upstream) && stable(a.settings) === stable(b.settings);
      if (!same) throw new Error(`${c.id}: the two runs differ`);
      const { prompt, stopping_strings, stop, ...pageOther } = a.page;
      delete pageOther.api_server; // the fake's port
      const { prompt: upPrompt, ...upOther } = a.upstream.body;
      const settings = a.settings;
      const file = `${c.id}.json`;
      const fixture = {
        id: c.id,
        kind: "prompt_text",
        template: c.template,
        st_template: c.st_template,
        feature: c.feature,
        description: c.description,
        source: `SillyTavern ${ST_VERSION}: Generate() in the real web UI, text completion source "generic" (OpenAI-compatible), instruct template "${c.st_template}"; see README.md`,
        generation_type: c.generation_type,
        settings_changed: {
          main_api: "textgenerationwebui",
          "textgenerationwebui_settings.type": "generic",
          "textgenerationwebui_settings.server_urls.generic": "http://127.0.0.1:<port> (fake OpenAI-compatible upstream)",
          "power_user.tokenizer": 0,
          "power_user.instruct.enabled": true,
          "power_user.instruct.preset": c.st_template,
        },
        settings_in_effect: settings,
        card: c.card,
        persona: c.persona,
        chat: c.chat,
        lorebook: c.lorebook,
        authors_note: c.authors_note,
        expected: {
          prompt,
          stopping_strings,
          stop,
          max_tokens: pageOther.max_tokens,
          upstream: { url: a.upstream.url, prompt: upPrompt, ...upOther },
          other_request_fields: pageOther,
        },
        deterministic_in_two_runs: true,
      };
      writeFileSync(join(outDir, file), JSON.stringify(fixture, null, 2) + "\n");
      index.push({ file, id: c.id, kind: "prompt_text", template: c.template, st_template: c.st_template, feature: c.feature, generation_type: c.generation_type, description: c.description });
    }
    // Keep cases recorded earlier (with --only) in the index.
    let old = [];
    try { old = JSON.parse(readFileSync(join(outDir, "index.json"), "utf8")).cases ?? []; } catch {}
    const merged = [...old.filter((o) => !index.some((n) => n.id === o.id)), ...index].sort((x, y) => x.id.localeCompare(y.id));
    writeFileSync(join(outDir, "index.json"), JSON.stringify({ sillytavern_version: ST_VERSION, cases: merged }, null, 2) + "\n");
    console.log(`[record] ${CASES.length} cases written to ${outDir} (both runs identical)`);
    // Known and harmless: the default AI Horde API has no network here; ST evaluates a card's
    // {{original}} outside a prompt build for its token counters.
    const unexpected = errors.filter((e) => !/horde|Internal S|Failed to load resource|Macro "original"/i.test(e));
    if (unexpected.length) console.log(`[record] page errors (not fatal):\n${unexpected.join("\n")}`);
  } finally {
    await cleanup();
  }
}

await main();

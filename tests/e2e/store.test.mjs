// The TavernStore JS API, called from a real page exactly as an app would: the BUILT package
// (pkg/, served at /pkg/ by scripts/serve.mjs), imported as an ES module in headless Chromium,
// backed by the browser's IndexedDB. Run `make pkg` first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "./browser.mjs";

let server, url, browser, page, errors;

before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  browser = await launch();
  page = await browser.context.newPage();
  errors = collectErrors(page);
  // Any page of the origin will do; the module is imported by the test code itself.
  await page.goto(new URL("/pkg/package.json", url).href);
  await page.evaluate(async () => {
    const m = await import("/pkg/nextchat_tavern.js");
    await m.default();
    window.m = m;
    let n = 0;
    // A database name never used before (the profile is fresh per run, too).
    window.fresh = () => m.TavernStore.open(`nct-e2e-${Date.now()}-${++n}`);
    // Runs fn and returns the TavernError it throws as plain data (or a marker if it did not).
    window.caught = async (fn) => {
      try {
        await fn();
        return { threw: false };
      } catch (e) {
        return { threw: true, isTavernError: m.isTavernError(e), name: e.name, code: e.code, message: e.message, isError: e instanceof Error };
      }
    };
    window.card = (name, extra = {}) => ({ spec: "chara_card_v2", spec_version: "2.0", data: { name, description: `${name} desc`, first_mes: `Hi, I am ${name}.`, tags: [], ...extra } });
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Evaluates fn(arg) in the page. */
const run = (fn, arg) => page.evaluate(fn, arg);

test("open: IndexedDB by name, memory with null, info() says which", async () => {
  const r = await run(async () => {
    const idb = await fresh();
    const mem = await m.TavernStore.open(null);
    return { idb: idb.info(), mem: mem.info() };
  });
  assert.equal(r.idb.backend, "indexeddb");
  assert.equal(r.idb.persistent, true);
  assert.match(r.idb.name, /^nct-e2e-/);
  assert.equal(r.mem.backend, "memory");
  assert.equal(r.mem.persistent, false);
  assert.equal(r.mem.fallbackReason, null);
});

test("characters: create, get, update, delete (tombstone) and restore", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const c = await s.createCharacter({ card: card("Alice", { tags: ["Fantasy", " fantasy ", "elf"] }), favorite: true });
    const got = await s.getCharacter(c.id);
    const up = await s.updateCharacter(c.id, { tags: ["sci-fi"], name: "Alicia", lastUsedAt: 1234 });
    const cleared = await s.updateCharacter(c.id, { lastUsedAt: null });
    const fromCard = await s.updateCharacter(c.id, { card: card("Alice II") });
    const del = await s.deleteCharacter(c.id);
    const afterDel = await s.getCharacter(c.id);
    const listAfterDel = await s.listCharacters();
    const delAgain = await caught(() => s.deleteCharacter(c.id));
    const restored = await s.restoreCharacter(c.id);
    const missing = await s.getCharacter("nope");
    const updMissing = await caught(() => s.updateCharacter("nope", { name: "x" }));
    return { c, got, up, cleared, fromCard, del, afterDel, total: listAfterDel.total, delAgain, restored, missing, updMissing };
  });
  assert.equal(r.c.name, "Alice");
  assert.deepEqual(r.c.tags, ["Fantasy", "elf"]);
  assert.equal(r.c.favorite, true);
  assert.equal(r.c.rev, 1);
  assert.equal(r.c.deleted, false);
  assert.equal(typeof r.c.id, "string");
  assert.ok(r.c.createdAt > 1.7e12 && r.c.updatedAt === r.c.createdAt);
  assert.equal(r.c.card.data.description, "Alice desc");
  assert.deepEqual(r.got, r.c);
  assert.equal(r.up.name, "Alicia");
  assert.deepEqual(r.up.tags, ["sci-fi"]);
  assert.equal(r.up.lastUsedAt, 1234);
  assert.equal(r.up.rev, 2);
  assert.equal(r.up.createdAt, r.c.createdAt);
  assert.equal(r.cleared.lastUsedAt, null, "lastUsedAt: null clears it");
  assert.equal(r.fromCard.name, "Alice II", "a new card renames");
  assert.equal(r.del.deleted, true);
  assert.equal(r.del.rev, 5);
  assert.equal(r.afterDel, null);
  assert.equal(r.total, 0);
  assert.equal(r.delAgain.code, "not_found");
  assert.equal(r.restored.deleted, false);
  assert.equal(r.restored.name, "Alice II");
  assert.equal(r.missing, null);
  assert.equal(r.updMissing.code, "not_found");
  // The index-only fields stay inside the store.
  assert.equal(r.c.ixName, undefined, "derived index fields are not part of the JS shape");
});

test("characters: listCharacters with query, tag, sort, offset and limit", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const names = ["Bob", "alice", "Carol", "Dave", "Eve", "Alan", "bella"];
    const made = [];
    for (const [i, n] of names.entries()) {
      made.push(await s.createCharacter({ card: card(n), tags: i % 2 ? ["Odd"] : ["even", "all"] }));
      await new Promise((ok) => setTimeout(ok, 2)); // distinct createdAt
    }
    await s.updateCharacter(made[2].id, { lastUsedAt: Date.now() + 1000 }); // Carol used last
    await s.updateCharacter(made[4].id, { lastUsedAt: Date.now() });        // then Eve
    const ids = (p) => p.items.map((c) => c.name);
    return {
      all: ids(await s.listCharacters()),
      allUndef: ids(await s.listCharacters(undefined)),
      allUndefFields: ids(await s.listCharacters({ query: undefined, tag: undefined, sort: "name", limit: undefined })),
      page2: await s.listCharacters({ offset: 2, limit: 2 }).then((p) => ({ names: ids(p), total: p.total, offset: p.offset })),
      sub: ids(await s.listCharacters({ query: "AL" })),
      subTotal: (await s.listCharacters({ query: "al", limit: 1 })).total,
      prefix: ids(await s.listCharacters({ query: "b", match: "prefix" })),
      tag: ids(await s.listCharacters({ tag: "ODD" })),
      tagQuery: ids(await s.listCharacters({ tag: "even", query: "a" })),
      recent: ids(await s.listCharacters({ sort: "recentlyUsed", limit: 2 })),
      created: ids(await s.listCharacters({ sort: "created", limit: 2 })),
      createdRev: ids(await s.listCharacters({ sort: "created", reverse: true, limit: 2 })),
      nameRev: ids(await s.listCharacters({ reverse: true, limit: 2 })),
      beyond: await s.listCharacters({ offset: 50 }).then((p) => [p.items.length, p.total]),
      badSort: await caught(() => s.listCharacters({ sort: "shoeSize" })),
    };
  });
  assert.deepEqual(r.all, ["Alan", "alice", "bella", "Bob", "Carol", "Dave", "Eve"]);
  assert.deepEqual(r.allUndef, r.all);
  assert.deepEqual(r.allUndefFields, r.all, "undefined fields are treated as absent");
  assert.deepEqual(r.page2, { names: ["bella", "Bob"], total: 7, offset: 2 });
  assert.deepEqual(r.sub, ["Alan", "alice"]);
  assert.equal(r.subTotal, 2);
  assert.deepEqual(r.prefix, ["bella", "Bob"]);
  assert.deepEqual(r.tag, ["Alan", "alice", "Dave"]);
  assert.deepEqual(r.tagQuery, ["bella", "Carol"]);
  assert.deepEqual(r.recent, ["Carol", "Eve"]);
  assert.deepEqual(r.created, ["bella", "Alan"]);
  assert.deepEqual(r.createdRev, ["Bob", "alice"]);
  assert.deepEqual(r.nameRev, ["Eve", "Dave"]);
  assert.deepEqual(r.beyond, [0, 7]);
  assert.equal(r.badSort.isTavernError, true);
  assert.equal(r.badSort.code, "invalid_argument");
});

test("a card with a large lorebook round-trips; listCharacters({ withCard: false }) leaves the cards out", async () => {
  const r = await run(async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      id: i, keys: [`place ${i}`, `ruin ${i % 40}`], secondary_keys: [], comment: `Place ${i}`,
      content: `Place ${i} lies east of the river; its people trade salt and ${i % 7} kinds of ember wine.`,
      constant: false, selective: false, insertion_order: 100, enabled: true, position: "before_char",
      extensions: { depth: 4, probability: 100, useProbability: true, group: "", exclude_recursion: false, display_index: i, weird: [1.5, null, "ü", { deep: true }] },
    }));
    const big = card("Codex", { tags: ["Lore"], character_book: { name: "Codex", entries } });
    const results = {};
    for (const [kind, s] of [["idb", await fresh()], ["mem", await m.TavernStore.open(null)]]) {
      const made = await s.createCharacter({ card: big });
      await s.createCharacter({ card: card("Ann", { tags: ["x"] }) });
      const got = await s.getCharacter(made.id);
      const light = await s.listCharacters({ withCard: false });
      const lightTag = await s.listCharacters({ tag: "lore", withCard: false });
      const full = await s.listCharacters({ limit: 1 });
      const updated = await s.updateCharacter(made.id, { card: { ...big, data: { ...big.data, name: "Codex II" } } });
      const unchanged = await s.updateCharacter(made.id, { card: null, favorite: true });
      results[kind] = {
        madeSame: JSON.stringify(made.card) === JSON.stringify(big),
        gotSame: JSON.stringify(got.card) === JSON.stringify(big),
        gotKeys: Object.keys(got).sort(),
        light: light.items.map((c) => [c.name, "card" in c, c.tags]),
        lightTotal: light.total,
        lightTag: lightTag.items.map((c) => [c.name, "card" in c]),
        fullHasCard: full.items[0].card?.data?.name,
        updated: [updated.name, updated.card.data.character_book.entries.length],
        unchanged: [unchanged.name, unchanged.favorite],
      };
    }
    return results;
  });
  for (const kind of ["idb", "mem"]) {
    const x = r[kind];
    assert.ok(x.madeSame && x.gotSame, `${kind}: the card comes back the same`);
    assert.deepEqual(x.gotKeys, ["avatarAssetId", "card", "createdAt", "deleted", "favorite", "id", "lastUsedAt", "name", "rev", "tags", "updatedAt"], kind);
    assert.deepEqual(x.light, [["Ann", false, ["x"]], ["Codex", false, ["Lore"]]], kind);
    assert.equal(x.lightTotal, 2);
    assert.deepEqual(x.lightTag, [["Codex", false]], kind);
    assert.equal(x.fullHasCard, "Ann", kind);
    assert.deepEqual(x.updated, ["Codex II", 3000], kind);
    assert.deepEqual(x.unchanged, ["Codex II", true], `${kind}: card: null leaves the card as it is`);
  }
});

test("importCards: one transaction, progress, AbortSignal, avatars, bad input", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const enc = new TextEncoder();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const progress = [];
    const files = [
      card("Ann"),                                             // object
      JSON.stringify(card("Ben")),                             // text
      enc.encode(JSON.stringify(card("Cid"))),                 // bytes
      { card: card("Dot"), tags: ["x"], favorite: true, avatar: png, avatarMime: "image/png" },
    ];
    const out = await s.importCards(files, { onProgress: (p) => progress.push(p) });
    const dot = out.find((c) => c.name === "Dot");
    const blob = await s.getAssetBlob(dot.avatarAssetId);
    const blobBytes = blob && [...new Uint8Array(await blob.arrayBuffer())];
    const before = (await s.listCharacters()).total;

    // Aborted from inside the progress callback (the user pressed "cancel" mid-import).
    const ac = new AbortController();
    const many = Array.from({ length: 20 }, (_, i) => card(`Many ${i}`));
    let seen = 0;
    const aborted = await caught(() => s.importCards(many, { onProgress: (p) => { seen = p.done; if (p.done === 5) ac.abort(); }, signal: ac.signal }));
    const afterAbort = (await s.listCharacters()).total;
    // Aborted before it starts.
    const ac2 = new AbortController();
    ac2.abort();
    const pre = await caught(() => s.importCards([card("Never")], { signal: ac2.signal }));
    // One bad card: nothing is kept, every bad card is named.
    const bad = await caught(() => s.importCards([card("Fine"), "{not json", card(""), 42]));
    const afterBad = (await s.listCharacters()).total;
    const notArray = await caught(() => s.importCards("nope"));
    const noOptions = await s.importCards([card("Solo")]);
    return { names: out.map((c) => c.name), progress, dot, blobType: blob?.type, blobBytes, before, aborted, seen, afterAbort, pre, bad, afterBad, notArray, solo: noOptions.length };
  });
  assert.deepEqual(r.names, ["Ann", "Ben", "Cid", "Dot"]);
  assert.deepEqual(r.progress, [1, 2, 3, 4].map((done) => ({ done, total: 4 })));
  assert.deepEqual(r.dot.tags, ["x"]);
  assert.equal(r.dot.favorite, true);
  assert.equal(r.blobType, "image/png");
  assert.deepEqual(r.blobBytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  assert.equal(r.before, 4);
  assert.equal(r.aborted.code, "aborted");
  assert.equal(r.aborted.isTavernError, true);
  assert.equal(r.seen, 5, "no progress after the abort");
  assert.equal(r.afterAbort, 4, "an aborted import keeps nothing");
  assert.equal(r.pre.code, "aborted");
  assert.equal(r.bad.threw, true);
  assert.ok(["validation", "bad_json"].includes(r.bad.code), r.bad.code);
  assert.match(r.bad.message, /\[1\]/);
  assert.match(r.bad.message, /\[2\]/);
  assert.match(r.bad.message, /\[3\]/);
  assert.equal(r.afterBad, 4);
  assert.equal(r.notArray.code, "invalid_argument");
  assert.equal(r.solo, 1);
});

test("chats: create, append, edit (swipes), delete, page backwards", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const ch = await s.createCharacter({ card: card("Nia") });
    const chat = await s.createChat({ characterId: ch.id, title: "First", metadata: { note: "n" } });
    const usedAfter = (await s.getCharacter(ch.id)).lastUsedAt;
    const appended = [];
    for (let i = 0; i < 25; i++) {
      appended.push(await s.appendMessage(chat.id, { name: i % 2 ? "Nia" : "User", isUser: i % 2 === 0, mes: `m${i}`, extra: { i }, fields: { gen_started: "x" } }));
    }
    const edited = await s.editMessage(chat.id, 24, { mes: "m24!" });
    const swiped = await s.editMessage(chat.id, 24, { addSwipe: "alt" });
    const back = await s.editMessage(chat.id, 24, { swipeId: 0 });
    await s.deleteMessage(chat.id, 10);
    const delAgain = await caught(() => s.deleteMessage(chat.id, 10));
    const last = await s.getMessages({ chatId: chat.id, limit: 10 });
    const prev = await s.getMessages({ chatId: chat.id, before: last[0].seq, limit: 10 });
    const first = await s.getMessages({ chatId: chat.id, before: prev[0].seq, limit: 10 });
    const none = await s.getMessages({ chatId: chat.id, before: first[0].seq });
    const dflt = await s.getMessages({ chatId: chat.id });
    const c = await s.getChat(chat.id);
    const noChat = await caught(() => s.appendMessage("missing", { mes: "x" }));
    const badSwipe = await caught(() => s.appendMessage(chat.id, { mes: "x", swipes: ["a"], swipeId: 3 }));
    const noMsg = await caught(() => s.editMessage(chat.id, 999, { mes: "x" }));
    const noOpts = await caught(() => s.getMessages());
    return {
      chat, usedAfter, appended: appended.map((m) => m.seq), a0: appended[0], edited, swiped, back, delAgain,
      last: last.map((m) => m.seq), prev: prev.map((m) => m.seq), first: first.map((m) => m.seq), none: none.length,
      dflt: dflt.length, c, noChat, badSwipe, noMsg, noOpts,
    };
  });
  assert.equal(r.chat.title, "First");
  assert.deepEqual(r.chat.metadata, { note: "n" });
  assert.equal(r.chat.messageCount, 0);
  assert.ok(r.usedAfter > 0, "opening a chat marks the character used");
  assert.deepEqual(r.appended, [...Array(25).keys()]);
  assert.equal(r.a0.chatId, r.chat.id);
  assert.equal(r.a0.isUser, true);
  assert.deepEqual(r.a0.extra, { i: 0 });
  assert.deepEqual(r.a0.fields, { gen_started: "x" });
  assert.ok(r.a0.sendDate > 0);
  assert.equal(r.edited.mes, "m24!");
  assert.equal(r.edited.rev, 2);
  assert.deepEqual(r.swiped.swipes, ["m24!", "alt"]);
  assert.equal(r.swiped.mes, "alt");
  assert.equal(r.back.mes, "m24!");
  assert.equal(r.delAgain.code, "not_found");
  assert.deepEqual(r.last, [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  assert.deepEqual(r.prev, [4, 5, 6, 7, 8, 9, 11, 12, 13, 14], "the tombstoned message is skipped");
  assert.deepEqual(r.first, [0, 1, 2, 3]);
  assert.equal(r.none, 0);
  assert.equal(r.dflt, 24);
  assert.equal(r.c.messageCount, 24);
  assert.equal(r.c.nextSeq, 25);
  assert.equal(r.c.lastMessagePreview, "m24!");
  assert.equal(r.noChat.code, "not_found");
  assert.equal(r.badSwipe.code, "validation");
  assert.equal(r.noMsg.code, "not_found");
  assert.equal(r.noOpts.code, "invalid_argument");
});

test("exportChatJsonl: SillyTavern JSONL, header line first", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const ch = await s.createCharacter({ card: card("Mira") });
    const chat = await s.createChat({ characterId: ch.id, metadata: { authors_note: "AN" } });
    await s.appendMessage(chat.id, { name: "You", isUser: true, mes: "hello", sendDate: Date.UTC(2025, 0, 2, 3, 4, 5, 6) });
    await s.appendMessage(chat.id, { name: "Mira", mes: "hi", swipes: ["hi", "hey"], swipeId: 0, extra: { api: "openai" }, fields: { force_avatar: "a.png" } });
    await s.appendMessage(chat.id, { name: "Mira", mes: "gone" });
    await s.deleteMessage(chat.id, 2);
    return { text: await s.exportChatJsonl(chat.id, "You"), dflt: await s.exportChatJsonl(chat.id), missing: await caught(() => s.exportChatJsonl("nope")) };
  });
  const lines = r.text.split("\n");
  assert.equal(lines.length, 3, "header + 2 live messages, no trailing newline");
  const [h, m0, m1] = lines.map((l) => JSON.parse(l));
  assert.equal(h.user_name, "You");
  assert.equal(h.character_name, "Mira");
  assert.match(h.create_date, /^\d{4}-\d{2}-\d{2}@\d{2}h\d{2}m\d{2}s\d{3}ms$/);
  assert.deepEqual(h.chat_metadata, { authors_note: "AN" });
  assert.equal("mes" in h, false);
  assert.equal(m0.name, "You");
  assert.equal(m0.is_user, true);
  assert.equal(m0.is_system, false);
  assert.equal(m0.mes, "hello");
  assert.equal(m0.send_date, "2025-01-02T03:04:05.006Z");
  assert.deepEqual(m0.extra, {});
  assert.deepEqual(m1.swipes, ["hi", "hey"]);
  assert.equal(m1.swipe_id, 0);
  assert.equal(m1.swipe_info.length, 2);
  assert.deepEqual(m1.extra, { api: "openai" });
  assert.equal(m1.force_avatar, "a.png");
  assert.equal(JSON.parse(r.dflt.split("\n")[0]).user_name, "User");
  assert.equal(r.missing.code, "not_found");
});

test("exportBackup / importBackup round-trip into a fresh database", async () => {
  const r = await run(async () => {
    const a = await fresh();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9, 8, 7]);
    const c1 = await a.createCharacter({ card: card("Rex"), avatar: png, avatarMime: "image/png", tags: ["dog"] });
    const c2 = await a.createCharacter({ card: card("Gone") });
    await a.deleteCharacter(c2.id);
    const chat = await a.createChat({ characterId: c1.id, title: "walk" });
    for (let i = 0; i < 5; i++) await a.appendMessage(chat.id, { name: "Rex", mes: `woof ${i}` });
    await a.deleteMessage(chat.id, 1);
    await a.setSettings({ theme: { mode: "dark" } }); // regression: defaults used to fail validation
    await a.setApiKey("openai", "sk-secret-value");
    const blob = await a.exportBackup();
    const text = await blob.text();
    const withSecrets = await (await a.exportBackup({ includeSecrets: true })).text();

    const b = await fresh();
    const progress = [];
    const report = await b.importBackup(blob, { onProgress: (p) => p.phase === "import" && progress.push(p.done) });
    const again = await b.importBackup(text); // same data again: everything skipped
    const rex = await b.getCharacter(c1.id);
    const gone = await b.getCharacter(c2.id);
    const msgs = await b.getMessages({ chatId: chat.id });
    const avatar = await b.getAssetBlob(rex.avatarAssetId);
    const keysB = await b.apiKeyNames();
    const c = await fresh();
    await c.importBackup(new TextEncoder().encode(withSecrets));
    const keysC = await c.apiKeyNames();
    const truncated = await caught(() => fresh().then((d) => d.importBackup(text.split("\n").slice(0, 3).join("\n"))));
    const foreign = await caught(() => b.importBackup('{"hello":1}'));
    const wrongType = await caught(() => b.importBackup(42));
    return {
      blobType: blob.type, header: JSON.parse(text.split("\n")[0]), hasSecretInPlain: text.includes("sk-secret-value"), hasSecretWith: withSecrets.includes("sk-secret-value"),
      report, again, progressLen: progress.length, rex, gone, msgs: msgs.map((m) => m.mes), chat: await b.getChat(chat.id),
      avatarType: avatar?.type, avatarBytes: avatar && [...new Uint8Array(await avatar.arrayBuffer())], theme: (await b.getSettings()).theme.mode, keysB, keysC,
      truncated, foreign, wrongType,
    };
  });
  assert.equal(r.blobType, "application/x-ndjson");
  assert.equal(r.header.format, "nextchat-tavern-backup");
  assert.equal(r.hasSecretInPlain, false, "API keys stay out of a default backup");
  assert.equal(r.hasSecretWith, true);
  assert.ok(r.report.written > 0 && r.report.skipped === 0, JSON.stringify(r.report));
  assert.equal(r.progressLen, r.report.written);
  assert.equal(r.again.written, 0);
  assert.equal(r.again.skipped, r.report.written);
  assert.equal(r.rex.name, "Rex");
  assert.deepEqual(r.rex.tags, ["dog"]);
  assert.equal(r.gone, null, "tombstones travel as tombstones");
  assert.deepEqual(r.msgs, ["woof 0", "woof 2", "woof 3", "woof 4"]);
  assert.equal(r.chat.messageCount, 4);
  assert.equal(r.avatarType, "image/png", "the avatar keeps its MIME type");
  assert.deepEqual(r.avatarBytes, [0x89, 0x50, 0x4e, 0x47, 9, 8, 7]);
  assert.equal(r.theme, "dark");
  assert.deepEqual(r.keysB, {});
  assert.deepEqual(r.keysC, { openai: true });
  assert.equal(r.truncated.code, "truncated");
  assert.equal(r.foreign.code, "unsupported_format");
  assert.equal(r.wrongType.code, "invalid_argument");
});

test("settings: get defaults, set partial, validation lists every bad field, subscribe", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const defaults = await s.getSettings();
    const seen = [];
    const changes = [];
    const off = s.subscribeSettings((st) => seen.push(st.generation.temperature ?? null));
    const offAll = s.subscribe((c) => changes.push(c));
    const one = await s.setSettings({ generation: { temperature: 0.7 } });
    const two = await s.setSettings({ generation: { maxTokens: 300 }, theme: { accent: "#ff8800" } });
    const bad = await caught(() => s.setSettings({ generation: { temperature: 5, topP: -1 }, theme: { accent: "red", fontScale: 9 }, voice: { rate: 0 } }));
    const typeErr = await caught(() => s.setSettings({ generation: { temperature: "hot" }, theme: { mode: "neon" }, colour: 1 }));
    const valid = await s.validateSettings({ generation: { temperature: 9 }, backend: { baseUrl: "ftp://x" } });
    const validOk = await s.validateSettings({ generation: { temperature: 1 } });
    const after = await s.getSettings();
    await new Promise((ok) => setTimeout(ok, 50));
    const seenBeforeOff = seen.slice();
    off();
    offAll();
    await s.setSettings({ generation: { temperature: 1.5 } });
    await s.setApiKey("openai", "sk-1");
    await new Promise((ok) => setTimeout(ok, 50));
    const removed = await s.setSettings({ generation: { maxTokens: null } });
    return { defaults, one, two, bad, typeErr, valid, validOk, after, seenBeforeOff, seenAfter: seen.length, changes, removed, keys: await s.apiKeyNames() };
  });
  assert.equal(r.defaults.backend.kind, "openAi");
  assert.equal(r.defaults.theme.mode, "system");
  assert.equal(r.one.generation.temperature, 0.7);
  assert.equal(r.two.generation.temperature, 0.7, "a partial update keeps other fields");
  assert.equal(r.two.generation.maxTokens, 300);
  assert.equal(r.two.theme.accent, "#ff8800");
  assert.equal(r.bad.code, "validation");
  assert.equal(r.bad.isTavernError, true);
  for (const f of ["generation.temperature", "generation.topP", "theme.accent", "theme.fontScale", "voice.rate"]) {
    assert.ok(r.bad.message.includes(f), `${f} in ${r.bad.message}`);
  }
  assert.equal(r.typeErr.code, "validation");
  for (const f of ["generation", "theme", "colour"]) assert.ok(r.typeErr.message.includes(f), `${f} in ${r.typeErr.message}`);
  assert.deepEqual(r.valid.map((e) => e.path).sort(), ["backend.baseUrl", "generation.temperature"]);
  assert.ok(r.valid.every((e) => typeof e.message === "string" && e.message.length > 0));
  assert.deepEqual(r.validOk, []);
  assert.equal(r.after.generation.temperature, 0.7, "a rejected update changes nothing");
  assert.deepEqual(r.seenBeforeOff, [0.7, 0.7]);
  assert.equal(r.seenAfter, 2, "unsubscribed listeners are not called");
  assert.deepEqual(r.changes.map((c) => [c.store, c.op, c.ids, c.remote]), [["settings", "put", ["settings"], false], ["settings", "put", ["settings"], false]]);
  assert.equal(r.removed.generation.maxTokens, null, "null removes a field");
  assert.deepEqual(r.keys, { openai: true });
});

test("errors are TavernError objects with stable codes", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const cases = {
      noName: await caught(() => s.createCharacter({ card: card("  ") })),
      notCard: await caught(() => s.createCharacter({ card: "x" })),
      badPatch: await caught(() => s.updateCharacter("x", 5)),
      badQuery: await caught(() => s.listCharacters({ limit: "ten" })),
      badChat: await caught(() => s.createChat({ characterId: "a", groupId: "b" })),
      badMessage: await caught(() => s.appendMessage("x", "hello")),
    };
    return { cases, plain: m.isTavernError(new Error("x")), codes: m.errorCodes() };
  });
  for (const [k, v] of Object.entries(r.cases)) {
    assert.equal(v.threw, true, k);
    assert.equal(v.isTavernError, true, k);
    assert.equal(v.isError, true, k);
    assert.equal(v.name, "TavernError", k);
    assert.ok(r.codes.includes(v.code), `${k}: ${v.code}`);
  }
  assert.equal(r.cases.noName.code, "validation");
  assert.equal(r.cases.badChat.code, "validation");
  assert.equal(r.plain, false);
});

test("a second connection (another tab) sees changes and is told about them", async () => {
  const r = await run(async () => {
    const name = `nct-e2e-tabs-${Date.now()}`;
    const a = await m.TavernStore.open(name);
    const b = await m.TavernStore.open(name);
    const remote = [];
    b.subscribe((c) => remote.push(c));
    const c = await a.createCharacter({ card: card("Shared") });
    await new Promise((ok) => setTimeout(ok, 100));
    return { seen: await b.getCharacter(c.id), remote };
  });
  assert.equal(r.seen.name, "Shared");
  // BroadcastChannel does not deliver to the sender's own channel object; b is another object.
  assert.ok(r.remote.some((c) => c.remote && c.store === "characters"), JSON.stringify(r.remote));
});

test("importBackup streams a fetch() body and a Blob in batches; a cancel keeps the committed batches", async () => {
  const r = await run(async () => {
    const a = await fresh();
    for (let i = 0; i < 8; i++) {
      const c = await a.createCharacter({ card: card(`Ünï ${i} 🦊`) });
      const chat = await a.createChat({ characterId: c.id });
      await a.appendMessage(chat.id, { name: "U", mes: `héllo — ${i}` });
    }
    const blob = await a.exportBackup();
    const text = await blob.text();
    // A real stream: the backup served back through fetch() from a blob: URL.
    const url = URL.createObjectURL(blob);
    const b = await fresh();
    const phases = new Set();
    const streamed = await b.importBackup((await fetch(url)).body, { batchSize: 5, onProgress: (p) => phases.add(p.phase) });
    URL.revokeObjectURL(url);
    const same = (await (await b.exportBackup()).text()).split("\n").slice(1).join("\n") === text.split("\n").slice(1).join("\n");
    const c = await fresh();
    const ctl = new AbortController();
    const cancelled = await caught(() => c.importBackup(blob, { batchSize: 3, signal: ctl.signal, onProgress: (p) => p.phase === "import" && p.done === 7 && ctl.abort() }));
    const kept = (await c.listCharacters()).total;
    const newer = await caught(() => fresh().then((d) => d.importBackup(text.replace(/"schemaVersion":\d+/, '"schemaVersion":99'))));
    return { streamed, phases: [...phases], same, cancelled, kept, newer };
  });
  assert.equal(r.streamed.skipped, 0);
  assert.ok(r.streamed.written >= 24, JSON.stringify(r.streamed));
  assert.deepEqual(r.phases, ["import"], "a stream is imported as it arrives");
  assert.ok(r.same, "the streamed import equals the source");
  assert.equal(r.cancelled.code, "aborted");
  assert.match(r.cancelled.message, /the first 6 items/);
  assert.equal(r.kept, 6);
  assert.equal(r.newer.code, "unsupported_format");
});

test("thumbnail / thumbnailUrl: PNG and JPEG avatars, made once and kept in IndexedDB", async () => {
  const r = await run(async () => {
    const image = async (type) => {
      const c = new OffscreenCanvas(600, 200);
      const x = c.getContext("2d");
      x.fillStyle = "#c00";
      x.fillRect(0, 0, 600, 200);
      return new Uint8Array(await (await c.convertToBlob({ type })).arrayBuffer());
    };
    const s = await fresh();
    const p = await s.createCharacter({ card: card("Pia"), avatar: await image("image/png"), avatarMime: "image/png" });
    const j = await s.createCharacter({ card: card("Jo"), avatar: await image("image/jpeg"), avatarMime: "image/jpeg" });
    const tp = await s.thumbnail(p.avatarAssetId);
    const tj = await s.thumbnail(j.avatarAssetId, { maxSide: 90 });
    const again = await s.thumbnail(p.avatarAssetId);
    const url = await s.thumbnailUrl(p.avatarAssetId);
    const img = new Image();
    img.src = url;
    await img.decode();
    URL.revokeObjectURL(url);
    return {
      tp, tj, sameAgain: JSON.stringify(again) === JSON.stringify(tp), url, natural: [img.naturalWidth, img.naturalHeight],
      missing: await s.thumbnail("nope"), tooLarge: await caught(() => s.thumbnail(p.avatarAssetId, { maxSide: 64, maxPixels: 1000 })),
    };
  });
  assert.equal(r.tp.original, false);
  assert.equal(r.tp.asset.role, "thumbnail");
  assert.deepEqual([r.tp.asset.width, r.tp.asset.height], [256, 85]);
  assert.equal(r.tj.original, false, "the browser decodes the JPEG");
  assert.deepEqual([r.tj.asset.width, r.tj.asset.height], [90, 30]);
  assert.ok(r.sameAgain);
  assert.match(r.url, /^blob:/);
  assert.deepEqual(r.natural, [256, 85]);
  assert.equal(r.missing, null);
  assert.equal(r.tooLarge.code, "too_large");
});

test("deleteChat tombstones the chat and its messages", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const chat = await s.createChat({ title: "bye" });
    for (let i = 0; i < 3; i++) await s.appendMessage(chat.id, { mes: `m${i}` });
    const del = await s.deleteChat(chat.id);
    const text = await (await s.exportBackup()).text();
    const msgLines = text.split("\n").filter((l) => l.includes('"store":"messages"')).map((l) => JSON.parse(l).record);
    return {
      del, get: await s.getChat(chat.id), msgs: await s.getMessages({ chatId: chat.id }), msgLines,
      again: await caught(() => s.deleteChat(chat.id)), append: await caught(() => s.appendMessage(chat.id, { mes: "x" })),
    };
  });
  assert.equal(r.del.deleted, true);
  assert.equal(r.get, null);
  assert.deepEqual(r.msgs, []);
  assert.equal(r.msgLines.length, 3);
  assert.ok(r.msgLines.every((m) => m.deleted && m.rev === 2), "each message is a tombstone in the backup");
  assert.equal(r.again.code, "not_found");
  assert.equal(r.append.code, "not_found");
});

test("createCharacter: an invalid card with an avatar leaves no orphan image", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const bad = await caught(() => s.createCharacter({ card: card(""), avatar: new Uint8Array([1, 2]) }));
    const good = await s.createCharacter({ card: card("Ok"), avatar: new Uint8Array([3, 4]), avatarMime: "image/webp" });
    const text = await (await s.exportBackup()).text();
    const assets = text.split("\n").filter((l) => l.includes('"t":"asset"') || l.includes('"store":"assets"')).map((l) => JSON.parse(l));
    return { bad, good, assets };
  });
  assert.equal(r.bad.code, "validation");
  assert.match(r.bad.message, /^name: /);
  assert.equal(r.assets.length, 2, "one asset record and its bytes, for the valid character only");
  const meta = r.assets.find((a) => a.t === "record").record;
  assert.equal(meta.id, r.good.avatarAssetId);
  assert.equal(meta.ownerId, r.good.id);
  assert.equal(meta.mime, "image/webp");
  assert.equal(meta.size, 2);
});

test("a card object is kept exactly through create, update and get: 64-bit integers, long digit runs, names and tags", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const c = card(" Nova ", { tags: ["a", "A", " b ", ""], extensions: { id64: 9223372036854775807n, small: 7, serial: "12345678901234567890" } });
    c.name = "top-level name (V1), not used";
    const made = await s.createCharacter({ card: c });
    const favored = await s.updateCharacter(made.id, { favorite: true });
    const back = await s.getCharacter(made.id);
    const plain = await s.createCharacter({ card: card("Plain", { tags: ["x"] }) });
    const topName = await s.createCharacter({ card: { name: "Top", tags: ["t"], data: "nope" } });
    const ext = (x) => ({ id64: typeof x.card.data.extensions.id64, id: String(x.card.data.extensions.id64), serial: x.card.data.extensions.serial, small: x.card.data.extensions.small });
    return {
      names: [made.name, made.tags, back.name, back.tags, back.favorite, favored.rev],
      made: ext(made), favored: ext(favored), back: ext(back),
      sameCard: JSON.stringify(back.card, (k, v) => typeof v === "bigint" ? `${v}n` : v) === JSON.stringify(c, (k, v) => typeof v === "bigint" ? `${v}n` : v),
      plain: [plain.name, (await s.getCharacter(plain.id)).card.data.first_mes],
      topName: [topName.name, topName.tags],
    };
  });
  assert.deepEqual(r.names, ["Nova", ["a", "b"], "Nova", ["a", "b"], true, 2]);
  for (const x of [r.made, r.favored, r.back]) assert.deepEqual(x, { id64: "bigint", id: "9223372036854775807", serial: "12345678901234567890", small: 7 });
  assert.ok(r.sameCard, "the card comes back exactly as it was given");
  assert.deepEqual(r.plain, ["Plain", "Hi, I am Plain."]);
  assert.deepEqual(r.topName, ["Top", ["t"]], "a card whose data is not an object is named from its top level (V1)");
});

test("no console errors", () => {
  // The favicon request of the bare test page is the only 404 allowed.
  assert.deepEqual(errors.filter((e) => !/404/.test(e) && !/favicon/.test(e)), []);
});

test("listChats: live chats of a character, most recently active first", async () => {
  const r = await run(async () => {
    const s = await fresh();
    const a = await s.createCharacter({ card: card("Ann") });
    const b = await s.createCharacter({ card: card("Bob") });
    const c1 = await s.createChat({ characterId: a.id, title: "first" });
    const c2 = await s.createChat({ characterId: a.id, title: "second" });
    await s.createChat({ characterId: b.id, title: "bob's" });
    await s.appendMessage(c1.id, { name: "You", isUser: true, mes: "newest activity" });
    const gone = await s.createChat({ characterId: a.id, title: "deleted" });
    await s.deleteChat(gone.id);
    return { ann: (await s.listChats({ characterId: a.id })).map((c) => c.title), all: (await s.listChats()).length, c2: c2.title };
  });
  assert.deepEqual(r.ann, ["first", "second"]);
  assert.equal(r.all, 3);
});

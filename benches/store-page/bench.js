// In-page side of benches/store.bench.mjs: ours (TavernStore through the built package) against
// NextChat's way of persisting chats (its zustand `persist` store: the WHOLE chat store
// JSON-serialised and written as one IndexedDB value through idb-keyval's `set`).
import init, { TavernStore } from "/pkg/nextchat_tavern.js";
import { set, get, createStore } from "/idb-keyval.js";
import { bigCard, libraryCard } from "./cards.js";
import { rawIdbAppend } from "./probe.js";

export async function ready() {
  await init();
  return true;
}

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
let dbn = 0;
const freshName = (what) => `bench-${what}-${Date.now()}-${++dbn}`;

const LOREM = "The rain hammered the tavern roof while the bard tuned a lute with one missing string. ";
const text = (i) => `${LOREM.repeat(1 + (i % 4))}(${i})`;

// ---- NextChat's shape (app/store/chat.ts): ChatMessage { id, date, role, content, model? } in
// ChatSession { id, topic, memoryPrompt, messages, stat, lastUpdate, lastSummarizeIndex,
// clearContextIndex, mask }, persisted as { state: { sessions, currentSessionIndex, lastInput }, version }.
const ncMessage = (i) => ({
  id: `m-${i}-${Math.random().toString(36).slice(2, 10)}`,
  date: new Date(1_700_000_000_000 + i * 60_000).toLocaleString(),
  role: i % 2 ? "assistant" : "user",
  content: text(i),
  ...(i % 2 ? { model: "gpt-4o-mini", streaming: false } : {}),
});
const ncSession = (id, n) => ({
  id, topic: `Session ${id}`, memoryPrompt: "", messages: Array.from({ length: n }, (_, i) => ncMessage(i)),
  stat: { tokenCount: 0, wordCount: 0, charCount: 0 }, lastUpdate: Date.now(), lastSummarizeIndex: 0,
  mask: { id: "m", avatar: "gpt-bot", name: "Default", context: [], syncGlobalConfig: true,
    modelConfig: { model: "gpt-4o-mini", temperature: 0.5, top_p: 1, max_tokens: 4000, presence_penalty: 0, frequency_penalty: 0,
      sendMemory: true, historyMessageCount: 4, compressMessageLengthThreshold: 1000, enableInjectSystemPrompts: true, template: "{{input}}" },
    lang: "en", builtin: false, createdAt: Date.now() },
});

/** NextChat's write: serialise the whole store, `set` it (createJSONStorage + idb-keyval). */
async function ncPersist(kv, state) {
  await set("chat-next-web-store", JSON.stringify({ state, version: 3.3 }), kv);
}

// ---- ours: a chat of n messages, loaded through importBackup (one transaction) ----
function backupWithChat(chatId, n) {
  const t = 1_700_000_000_000;
  const lines = [JSON.stringify({ format: "nextchat-tavern-backup", formatVersion: 1, schemaVersion: 2, createdAt: t, includesSecrets: false })];
  lines.push(JSON.stringify({ t: "record", store: "chats", record: { id: chatId, rev: n + 1, createdAt: t, updatedAt: t + n, deleted: false, characterId: null, groupId: null, title: "bench", messageCount: n, nextSeq: n, lastMessagePreview: "x", lastMessageAt: t + n, metadata: {} } }));
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ t: "record", store: "messages", record: {
      id: `msg-${i}`, rev: 1, createdAt: t + i, updatedAt: t + i, deleted: false, chatId, seq: i, name: i % 2 ? "Aria" : "User",
      isUser: i % 2 === 0, isSystem: false, mes: text(i), sendDate: t + i, swipes: [], swipeId: 0, swipeInfo: [], extra: i % 2 ? { api: "openai", model: "gpt-4o-mini" } : {}, fields: {},
    } }));
  }
  lines.push(JSON.stringify({ t: "end", items: n + 1 }));
  return lines.join("\n");
}

const newMessage = (i) => ({ name: "User", isUser: true, mes: text(i) });

/** Sets up both sides for a chat of n messages; returns handles. */
export async function setupAppend(n, sessions = 5) {
  const s = await TavernStore.open(freshName(`append${n}`));
  const chatId = `chat-${n}`;
  await s.importBackup(backupWithChat(chatId, n));
  const kv = createStore(freshName(`kv${n}`), "keyval");
  // NextChat: the big session plus a few ordinary ones (50 messages each).
  const state = { sessions: [ncSession("big", n), ...Array.from({ length: sessions - 1 }, (_, i) => ncSession(`s${i}`, 50))], currentSessionIndex: 0, lastInput: "" };
  await ncPersist(kv, state);
  window.__append = { s, chatId, kv, state, i: n };
  return { chatCount: (await s.getChat(chatId)).messageCount, ncBytes: JSON.stringify(state).length };
}

/** Median ms of one append, `runs` times (after `warmup`), ours or peer. */
export async function timeAppend(side, runs = 25, warmup = 3) {
  const a = window.__append;
  const samples = [];
  for (let r = 0; r < warmup + runs; r++) {
    const i = a.i++;
    const t0 = now();
    if (side === "ours") {
      await a.s.appendMessage(a.chatId, newMessage(i));
    } else {
      a.state.sessions[0].messages.push(ncMessage(i));
      a.state.sessions[0].lastUpdate = Date.now();
      await ncPersist(a.kv, a.state);
    }
    if (r >= warmup) samples.push(now() - t0);
  }
  return median(samples);
}

/** A 10,000-character library: ours through importCards; NextChat-style as one blob. */
export async function setupLibrary(n) {
  const s = await TavernStore.open(freshName(`lib${n}`));
  const cards = Array.from({ length: n }, (_, i) => ({
    spec: "chara_card_v2", spec_version: "2.0",
    data: { name: `${["Aria", "Borin", "Cass", "Dara", "Eli", "Fenn"][i % 6]} ${(i * 7919) % n}`, description: text(i), first_mes: text(i + 1), tags: [`t${i % 20}`] },
  }));
  const t0 = now();
  await s.importCards(cards);
  const importMs = now() - t0;
  const kv = createStore(freshName(`kvlib${n}`), "keyval");
  await set("library", JSON.stringify(cards), kv);
  window.__lib = { s, kv };
  return { importMs, total: (await s.listCharacters({ limit: 1 })).total };
}

export async function timeListFirstPage(side, runs = 9, warmup = 2) {
  const l = window.__lib;
  const samples = [];
  let names = null;
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = now();
    if (side === "ours") {
      names = (await l.s.listCharacters({ sort: "name", limit: 50 })).items.map((c) => c.name);
    } else {
      const all = JSON.parse(await get("library", l.kv));
      all.sort((a, b) => a.data.name.toLowerCase().localeCompare(b.data.name.toLowerCase()));
      names = all.slice(0, 50).map((c) => c.data.name);
    }
    if (r >= warmup) samples.push(now() - t0);
  }
  return { ms: median(samples), first: names[0], count: names.length };
}

export async function timeLast50(side, runs = 15, warmup = 3) {
  const a = window.__append;
  const samples = [];
  let got = 0;
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = now();
    if (side === "ours") {
      got = (await a.s.getMessages({ chatId: a.chatId, limit: 50 })).length;
    } else {
      const st = JSON.parse(await get("chat-next-web-store", a.kv)).state;
      got = st.sessions[0].messages.slice(-50).length;
    }
    if (r >= warmup) samples.push(now() - t0);
  }
  return { ms: median(samples), got };
}

// ---- big cards and the library (data shaped like real cards: ./cards.js) ----

/** Store then load one character with a 6,000-entry lorebook. Ours: createCharacter +
 *  getCharacter (IndexedDB); peer: NextChat's way for one object (JSON.stringify + idb-keyval
 *  `set`, then `get` + JSON.parse). Returns the median store, load and total ms. */
export async function timeBigCard(side, entries = 6000, runs = 7, warmup = 1) {
  const card = window.__bigCard ??= bigCard(entries);
  const db = window.__bigDb ??= { s: await TavernStore.open(freshName("big")), kv: createStore(freshName("kvbig"), "keyval") };
  const st = [], ld = [], tot = [];
  let check = 0;
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = now();
    let back;
    if (side === "ours") {
      const c = await db.s.createCharacter({ card });
      const t1 = now();
      back = (await db.s.getCharacter(c.id)).card;
      if (r >= warmup) { st.push(t1 - t0); ld.push(now() - t1); }
    } else {
      const key = `char-${r}`;
      await set(key, JSON.stringify(card), db.kv);
      const t1 = now();
      back = JSON.parse(await get(key, db.kv));
      if (r >= warmup) { st.push(t1 - t0); ld.push(now() - t1); }
    }
    if (r >= warmup) tot.push(now() - t0);
    check = back.data.character_book.entries.length;
  }
  return { store: median(st), load: median(ld), total: median(tot), entries: check, jsonBytes: JSON.stringify(card).length };
}

/** Fills the demo's database with `n` ordinary characters (each with a small PNG avatar). */
export async function setupDemoLibrary(n, avatarBytes) {
  const s = await TavernStore.open("nextchat-tavern-demo");
  const avatar = new Uint8Array(avatarBytes);
  const cards = Array.from({ length: n }, (_, i) => ({ card: libraryCard(i), avatar, avatarMime: "image/png" }));
  await s.importCards(cards);
  const kv = createStore(freshName("kvlib-demo"), "keyval");
  // NextChat-style peer: the same characters as one JSON value (avatars as data in the value).
  await set("library", JSON.stringify(cards.map((c) => ({ card: c.card }))), kv);
  window.__demoLib = { kv, total: (await s.listCharacters({ limit: 1 })).total };
  return window.__demoLib.total;
}

/** The peer of opening the library: read the whole library value, parse, gather tags, sort, first page. */
export async function timeLibraryPeer(runs = 5) {
  const { kv } = window.__demoLib;
  const xs = [];
  let first = null;
  for (let r = 0; r < runs + 1; r++) {
    const t0 = now();
    const all = JSON.parse(await get("library", kv));
    const tags = new Set();
    for (const c of all) for (const t of c.card.data.tags) tags.add(t.toLowerCase());
    all.sort((a, b) => a.card.data.name.toLowerCase().localeCompare(b.card.data.name.toLowerCase()));
    first = all.slice(0, 60).map((c) => c.card.data.name)[0];
    if (r) xs.push(now() - t0);
  }
  return { ms: median(xs), first };
}

/** The peer of the Library import: decode the card file (card codec) and keep it NextChat's way. */
export async function timeImportPeer(url, runs = 3) {
  const m = await import("/pkg/nextchat_tavern.js");
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const kv = createStore(freshName("kvimport"), "keyval");
  const xs = [];
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    const imported = await m.importCardAsync(bytes, { fileName: "big.png" });
    await set(`card-${r}`, JSON.stringify(imported.card), kv);
    await set(`avatar-${r}`, new Blob([bytes], { type: "image/png" }), kv);
    xs.push(now() - t0);
  }
  return median(xs);
}

/** Ours against the hand-written single-transaction append (./probe.js), on a chat of n. */
export async function timeAppendVsRaw(side, runs = 40) {
  if (side === "ours") {
    window.__appendRaw ??= await setupAppend(1000);
    return timeAppend("ours", runs, 5);
  }
  return rawIdbAppend(runs, "default", true);
}

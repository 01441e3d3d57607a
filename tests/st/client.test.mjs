// The SillyTavernClient against a REAL SillyTavern (installed from npm, on 127.0.0.1), driven from
// headless Chromium with the page on another 127.0.0.1 port (cross-origin, cookies + CSRF + CORS).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, inPage, freePort } from "./harness.mjs";

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

const run = (fn, arg) => inPage(env.page, env.stUrl, fn, arg);
const ok = (r) => { assert.ok(!r.err, `unexpected error: ${JSON.stringify(r.err)}`); return r.ok; };

test("connects (CSRF token with cookies) and lists the seeded characters", async () => {
  const list = ok(await run(async (_, c) => { await c.connect(); return c.characters(); }));
  assert.ok(Array.isArray(list));
  assert.ok(list.some((ch) => ch.name === "Seraphina" && ch.avatar.endsWith(".png")), JSON.stringify(list.map((c) => c.avatar)));
});

test("characters: create, get, merge, rename, duplicate, export, import, thumbnail, delete", async () => {
  const r = ok(await run(async (_, c) => {
    const card = { spec: "chara_card_v2", spec_version: "2.0", data: {
      name: "Nova", description: "A star pilot.", personality: "bold", scenario: "orbit", first_mes: "Hi {{user}}",
      mes_example: "", creator_notes: "n", system_prompt: "", post_history_instructions: "", tags: ["sci-fi"],
      creator: "tests", character_version: "1", alternate_greetings: ["Hey", "Yo"],
      extensions: { talkativeness: "0.7", custom_ext: { keep: [1, 2] } } } };
    const avatar = await c.createCharacter(card, undefined, {});
    const got = await c.character(avatar);
    await c.mergeCharacter(avatar, { data: { personality: "bolder" } });
    const merged = await c.character(avatar);
    const renamed = await c.renameCharacter(avatar, "Nova Prime");
    const dup = await c.duplicateCharacter(renamed);
    const png = await c.exportCharacter(renamed, "png");
    const imported = await c.importCharacter(png, "png", "nova.png");
    const thumb = await c.thumbnail("avatar", renamed);
    const chats = await c.characterChats(renamed);
    for (const a of [dup, imported, renamed]) await c.deleteCharacter(a, { deleteChats: true });
    const after = (await c.characters()).map((x) => x.avatar);
    return { avatar, got, merged, renamed, dup, pngHead: Array.from(png.slice(0, 8)), imported, thumbLen: thumb.length, chats, after };
  }));
  assert.equal(r.avatar, "Nova.png");
  assert.equal(r.got.data.description, "A star pilot.");
  assert.deepEqual(r.got.data.alternate_greetings, ["Hey", "Yo"]);
  assert.deepEqual(r.got.data.extensions.custom_ext, { keep: [1, 2] });
  assert.equal(r.merged.data.personality, "bolder");
  assert.equal(r.renamed, "Nova Prime.png");
  assert.match(r.dup, /^Nova Prime.*\.png$/);
  assert.deepEqual(r.pngHead, [137, 80, 78, 71, 13, 10, 26, 10]);
  assert.match(r.imported, /\.png$/);
  assert.ok(r.thumbLen > 100);
  assert.deepEqual(r.chats, []);
  for (const a of [r.renamed, r.dup, r.imported]) assert.ok(!r.after.includes(a), `${a} still listed`);
});

test("createCharacter keeps every byte of multi-line fields, and matchCharacter finds the character", async () => {
  const r = ok(await run(async (nct, c) => {
    const ml = (k) => `${k} line 1\nline 2\n\n  indented\tline 4\r\nkept CRLF\n`;
    const data = {
      name: "Lines", description: ml("description"), personality: ml("personality"), scenario: ml("scenario"),
      first_mes: ml("first_mes"), mes_example: ml("<START>\n{{user}}: hi\n{{char}}: hello"), creator_notes: ml("creator_notes"),
      system_prompt: ml("system_prompt"), post_history_instructions: ml("post_history_instructions"),
      creator: "tests", character_version: "1", tags: ["a", "b"], alternate_greetings: [ml("greeting 1"), ml("greeting 2")],
      extensions: { talkativeness: "0.5", depth_prompt: { prompt: ml("depth"), depth: 4, role: "system" } },
    };
    const card = { spec: "chara_card_v2", spec_version: "2.0", data };
    const avatar = await c.createCharacter(card, undefined, {});
    const got = await c.character(avatar);
    const list = await c.characters();
    const found = nct.matchCharacter(card, null, list);
    const none = nct.matchCharacter({ data: { name: "Nobody here" } }, null, list);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { data, got: got.data, top: { description: got.description, mes_example: got.mes_example, first_mes: got.first_mes }, avatar, found, none };
  }));
  for (const k of ["description", "personality", "scenario", "first_mes", "mes_example", "creator_notes", "system_prompt", "post_history_instructions", "creator", "character_version"]) {
    assert.equal(JSON.stringify(r.got[k]), JSON.stringify(r.data[k]), `data.${k} changed on the way`);
  }
  for (const k of ["description", "mes_example", "first_mes"]) assert.equal(JSON.stringify(r.top[k]), JSON.stringify(r.data[k]), `${k} changed on the way`);
  assert.deepEqual(r.got.alternate_greetings, r.data.alternate_greetings);
  assert.deepEqual(r.got.tags, r.data.tags);
  assert.equal(r.got.extensions.depth_prompt.prompt, r.data.extensions.depth_prompt.prompt);
  assert.equal(r.found, r.avatar, "matchCharacter finds the created character");
  assert.strictEqual(r.none, null, "no match is null, as documented");
});

test("chats: save, load, integrity conflict, force, rename, delete", async () => {
  const r = ok(await run(async (nct, c) => {
    const avatar = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Chatty" } }, undefined, {});
    const file = "Chatty - test";
    const header = { chat_metadata: { integrity: "aaaa-1" }, user_name: "unused", character_name: "unused" };
    const msg = { name: "User", is_user: true, is_system: false, mes: "Hello", send_date: "2026-11-27T05:20:00.000Z", extra: {} };
    await c.saveChat(avatar, file, [header, msg], {});
    const loaded = await c.chat(avatar, file);
    let conflict = null;
    try { await c.saveChat(avatar, file, [{ ...header, chat_metadata: { integrity: "bbbb-2" } }, msg], {}); }
    catch (e) { conflict = { code: e.code, isOurs: nct.isTavernError(e) }; }
    await c.saveChat(avatar, file, [{ ...header, chat_metadata: { integrity: "bbbb-2" } }, msg, { ...msg, mes: "again" }], { force: true });
    const forced = await c.chat(avatar, file);
    const renamed = await c.renameChat(avatar, file, "Chatty - renamed", {});
    const list = await c.characterChats(avatar);
    await c.deleteChat(avatar, "Chatty - renamed");
    const afterDelete = await c.characterChats(avatar);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { loaded, conflict, forced, renamed, list, afterDelete };
  }));
  assert.equal(r.loaded.length, 2);
  assert.equal(r.loaded[1].mes, "Hello");
  assert.deepEqual(r.conflict, { code: "integrity_conflict", isOurs: true });
  assert.equal(r.forced.length, 3);
  assert.equal(r.forced[0].chat_metadata.integrity, "bbbb-2");
  assert.match(r.renamed, /Chatty - renamed/);
  assert.equal(r.list.length, 1);
  assert.equal(r.afterDelete.length, 0);
});

test("groups and group chats: create, list, edit, save, load, delete", async () => {
  const r = ok(await run(async (_, c) => {
    const group = await c.createGroup({ name: "Trio", members: ["default_Seraphina.png"] });
    await c.editGroup({ ...group, name: "Quartet" });
    const listed = (await c.groups()).find((g) => g.id === group.id);
    const header = { chat_metadata: { integrity: "g-1" }, user_name: "unused", character_name: "unused" };
    await c.saveGroupChat(group.chat_id, [header, { name: "User", is_user: true, mes: "hi all" }], {});
    const chat = await c.groupChat(group.chat_id);
    await c.deleteGroup(group.id);
    const after = (await c.groups()).some((g) => g.id === group.id);
    return { group, listed, chat, after };
  }));
  assert.equal(r.group.name, "Trio");
  assert.equal(r.listed.name, "Quartet");
  assert.equal(r.chat[1].mes, "hi all");
  assert.equal(r.after, false);
});

test("world info: save, list, get, delete; invalid books are refused before sending", async () => {
  const r = ok(await run(async (_, c) => {
    const book = { entries: { "0": { uid: 0, key: ["dragon"], keysecondary: [], content: "Dragons hoard gold.", comment: "d", order: 100, position: 0, disable: false } } };
    await c.saveWorldInfo("TestBook", book);
    const names = (await c.worldInfoList()).map((b) => b.name);
    const got = await c.worldInfo("TestBook");
    await c.deleteWorldInfo("TestBook");
    const missing = await c.worldInfo("TestBook");
    let invalid = null;
    try { await c.saveWorldInfo("Bad", { nope: 1 }); } catch (e) { invalid = e.code; }
    return { names, got, missing, invalid };
  }));
  assert.ok(r.names.includes("TestBook"));
  assert.equal(r.got.entries["0"].content, "Dragons hoard gold.");
  assert.deepEqual(r.missing, { entries: {} });
  assert.equal(r.invalid, "invalid_argument");
});

test("settings are read and parsed", async () => {
  const s = ok(await run(async (_, c) => c.settings()));
  assert.equal(typeof s, "object");
  assert.ok("power_user" in s || "main_api" in s, Object.keys(s).slice(0, 10).join(","));
});

test("a lost session is recovered: CSRF refreshed and the call retried once", async () => {
  const r = await env.page.evaluate(async (stUrl) => {
    window.keepClient = new window.nct.SillyTavernClient({ baseUrl: stUrl });
    await window.keepClient.connect();
    return true;
  }, env.stUrl);
  assert.equal(r, true);
  await env.browser.context.clearCookies(); // the server-side session (cookie) is gone; the cached token is stale
  const list = await env.page.evaluate(async () => (await window.keepClient.groups()).length);
  assert.equal(typeof list, "number");
});

test("abort, unreachable server and CORS rejection give typed errors", async () => {
  const aborted = await run(async (_, c) => { const ac = new AbortController(); ac.abort(); return c.characters({ signal: ac.signal }); });
  assert.equal(aborted.err?.code, "aborted");
  const deadPort = await freePort();
  const down = await inPage(env.page, `http://127.0.0.1:${deadPort}`, async (_, c) => c.characters());
  assert.equal(down.err?.code, "network");
  // Same server, but the page's origin spelled "localhost": not in SillyTavern's CORS list.
  const other = await env.browser.context.newPage();
  await other.goto(env.pageUrl.replace("127.0.0.1", "localhost"));
  await other.evaluate(async () => { const m = await import("/pkg/nextchat_tavern.js"); await m.default(); window.nct = m; });
  const blocked = await inPage(other, env.stUrl, async (_, c) => c.characters());
  await other.close();
  assert.equal(blocked.err?.code, "cors_blocked");
  assert.match(blocked.err.message, /cors:.*origin/);
  assert.match(blocked.err.message, /same host name/);
  const badUrl = await inPage(env.page, "ftp://x", async () => 1);
  assert.equal(badUrl.err?.code, "invalid_argument");
});

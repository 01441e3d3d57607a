// Cards, chats and lorebooks crossing between our codec and a REAL SillyTavern, import from URL,
// and the accounts login flow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { startAll, inPage } from "./harness.mjs";

const fixture = (name) => readFileSync(new URL(`../fixtures/cards/${name}`, import.meta.url));

let env, files;
before(async () => {
  env = await startAll();
  // A plain file server on 127.0.0.1 for importFromUrl (SillyTavern fetches from it).
  files = createServer((req, res) => {
    if (req.url === "/cards/basic.png") return res.writeHead(200, { "content-type": "image/png" }).end(fixture("v2_basic.png"));
    res.writeHead(404).end();
  });
  await new Promise((ok) => files.listen(0, "127.0.0.1", ok));
});
after(async () => {
  await env?.stop();
  files?.close();
});

const ok = (r) => { assert.ok(!r.err, `unexpected error: ${JSON.stringify(r.err)}`); return r.ok; };

test("a card exported by our codec imports into SillyTavern and comes back equal", async () => {
  const r = ok(await inPage(env.page, env.stUrl, async (nct, c) => {
    const card = {
      spec: "chara_card_v3", spec_version: "3.0",
      data: {
        name: "Ünïcode Ava 🌸", description: "Ein Charakter — 日本語 too.", personality: "curious", scenario: "a library",
        first_mes: "Hello {{user}}!", mes_example: "<START>\n{{char}}: Hi.", creator_notes: "notes", system_prompt: "sys",
        post_history_instructions: "phi", alternate_greetings: ["Hey", "Yo"], tags: ["fantasy", "test"], creator: "tests",
        character_version: "2.1", group_only_greetings: [],
        extensions: { talkativeness: "0.5", fav: false, world: "", depth_prompt: { prompt: "stay", depth: 3, role: "system" }, our_ext: { nested: [1, 2, 3] } },
        character_book: { name: "Ava's book", entries: [
          { keys: ["library"], content: "The library is old.", enabled: true, insertion_order: 10, use_regex: false, extensions: {}, id: 1, comment: "lib" },
        ], extensions: {} },
      },
    };
    const png = nct.exportCard(card, { format: "png" });
    const avatar = await c.importCharacter(png, "png", "ava.png");
    const got = await c.character(avatar);
    const back = await c.exportCharacter(avatar, "png");
    const again = nct.importCard(back);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { card, got, again: again.card, sourceSpec: again.sourceSpec };
  }));
  const want = r.card.data;
  for (const k of ["name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes", "system_prompt",
    "post_history_instructions", "creator", "character_version"]) {
    assert.equal(r.got.data[k], want[k], `SillyTavern's ${k}`);
    assert.equal(r.again.data[k], want[k], `round-tripped ${k}`);
  }
  assert.deepEqual(r.got.data.alternate_greetings, want.alternate_greetings);
  assert.deepEqual(r.got.data.tags, want.tags);
  assert.deepEqual(r.got.data.extensions.our_ext, want.extensions.our_ext);
  assert.deepEqual(r.got.data.extensions.depth_prompt, want.extensions.depth_prompt);
  assert.equal(r.got.data.character_book.entries[0].content, "The library is old.");
  assert.deepEqual(r.again.data.alternate_greetings, want.alternate_greetings);
  assert.deepEqual(r.again.data.extensions.our_ext, want.extensions.our_ext);
  assert.equal(r.again.data.character_book.entries[0].content, "The library is old.");
  assert.deepEqual(r.again.data.character_book.entries[0].keys, ["library"]);
});

test("chat export and import, lorebook import", async () => {
  const book = readFileSync(new URL("../fixtures/cards/st_eldoria_worldinfo.json", import.meta.url), "utf8");
  const r = ok(await inPage(env.page, env.stUrl, async (_, c, bookText) => {
    const avatar = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Porter" } }, undefined, {});
    const header = { chat_metadata: { integrity: "p-1" }, user_name: "unused", character_name: "unused" };
    const lines = [header, { name: "User", is_user: true, is_system: false, mes: "one", send_date: "2026-11-27T05:00:00.000Z", extra: {} },
      { name: "Porter", is_user: false, is_system: false, mes: "two", send_date: "2026-11-27T05:00:01.000Z", extra: {} }];
    await c.saveChat(avatar, "Porter - original", lines);
    const jsonl = await c.exportChat(avatar, "Porter - original");
    const txt = await c.exportChat(avatar, "Porter - original", { format: "txt" });
    const names = await c.importChat(avatar, "Porter", "User", new TextEncoder().encode(jsonl), "jsonl");
    const imported = await c.chat(avatar, names[0].replace(/\.jsonl$/, ""));
    const bookName = await c.importWorldInfo(new TextEncoder().encode(bookText), "Eldoria Copy.json");
    const wi = await c.worldInfo(bookName);
    await c.deleteWorldInfo(bookName);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { jsonlLines: jsonl.split("\n").length, txt, names, imported: imported.slice(1).map((m) => m.mes), bookName, entries: Object.keys(wi.entries).length };
  }, book));
  assert.equal(r.jsonlLines, 3);
  assert.match(r.txt, /User: one/);
  assert.equal(r.names.length, 1);
  assert.deepEqual(r.imported, ["one", "two"]);
  assert.equal(r.bookName, "Eldoria Copy");
  assert.equal(r.entries, Object.keys(JSON.parse(book).entries).length);
});

test("full character edit keeps the file name and replaces the card; group chats import", async () => {
  const r = ok(await inPage(env.page, env.stUrl, async (_, c) => {
    const avatar = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Edith", description: "before", tags: ["a"] } }, undefined, {});
    await c.editCharacter(avatar, { spec: "chara_card_v2", data: { name: "Edith", description: "after", tags: ["b", "c"], alternate_greetings: ["hi"] } });
    const got = await c.character(avatar);
    const group = await c.createGroup({ name: "Importers", members: [avatar] });
    const jsonl = [JSON.stringify({ chat_metadata: { integrity: "g" }, user_name: "unused", character_name: "unused" }),
      JSON.stringify({ name: "User", is_user: true, is_system: false, mes: "group hello", send_date: "2026-11-27T05:00:00.000Z", extra: {} })].join("\n");
    const id = await c.importGroupChat(new TextEncoder().encode(jsonl));
    const chat = await c.groupChat(id);
    await c.deleteGroup(group.id);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { avatar, got, id, mes: chat.at(-1)?.mes };
  }));
  assert.equal(r.got.avatar, r.avatar);
  assert.equal(r.got.data.description, "after");
  assert.deepEqual(r.got.data.tags, ["b", "c"]);
  assert.deepEqual(r.got.data.alternate_greetings, ["hi"]);
  assert.ok(r.id.length > 0);
  assert.equal(r.mes, "group hello");
});

test("import from a URL the server is allowed to fetch", async () => {
  const url = `http://127.0.0.1:${files.address().port}/cards/basic.png`;
  const r = ok(await inPage(env.page, env.stUrl, async (_, c, u) => {
    const res = await c.importFromUrl(u);
    const got = await c.character(res.name);
    await c.deleteCharacter(res.name, { deleteChats: true });
    return { res, name: got.name };
  }, url));
  assert.equal(r.res.kind, "character");
  assert.match(r.res.name, /\.png$/);
  assert.ok(r.name.length > 0);
});

test("user accounts: forbidden before login, works after, wrong password is unauthorized", async () => {
  const acc = await startAll({ accounts: true });
  try {
    const r = ok(await inPage(acc.page, acc.stUrl, async (_, c) => {
      let before = null;
      try { await c.characters(); } catch (e) { before = e.code; }
      let wrong = null;
      try { await c.login("nobody-here", "x"); } catch (e) { wrong = e.code; }
      await c.login("default-user", "");
      const me = await c.me();
      const list = await c.characters();
      await c.logout();
      let after = null;
      try { await c.characters(); } catch (e) { after = e.code; }
      return { before, wrong, me: me.handle, count: list.length, after };
    }));
    assert.equal(r.before, "forbidden");
    assert.equal(r.wrong, "unauthorized");
    assert.equal(r.me, "default-user");
    assert.ok(r.count >= 1);
    assert.equal(r.after, "forbidden");
  } finally {
    await acc.stop();
  }
});

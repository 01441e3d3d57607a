// The chat bridge against a real SillyTavern: two "tabs" write the same chat file concurrently;
// every sync loads, merges and saves, so no message of either side is lost and nothing is forced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, inPage } from "./harness.mjs";

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

const ok = (r) => { assert.ok(!r.err, `unexpected error: ${JSON.stringify(r.err)}`); return r.ok; };

test("two writers of one chat: every message and both versions of an edit survive", async () => {
  const r = ok(await inPage(env.page, env.stUrl, async (nct, c) => {
    const avatar = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Bridget", first_mes: "Hello!" } }, undefined, {});
    const file = "Bridget - bridge test";
    const t = Date.parse("2026-11-27T05:00:00.000Z");
    const base = [
      { name: "Bridget", isUser: false, mes: "Hello!", sendDate: t },
      { name: "User", isUser: true, mes: "Hi there", sendDate: t + 1000 },
    ];
    const first = await c.syncChat({ avatar, file, integrity: "chat-1" }, base, {});
    // Tab B (its own client, same chat) appends a message.
    const tabB = new nct.SillyTavernClient({ baseUrl: c.baseUrl });
    const b = await tabB.syncChat(first.link, [...first.messages, { name: "User", isUser: true, mes: "from tab B", sendDate: t + 5000 }], {});
    // Tab A never saw it: it edits the greeting and appends its own message.
    const mine = [{ ...base[0], mes: "Hello, traveller!" }, base[1], { name: "User", isUser: true, mes: "from tab A", sendDate: t + 9000 }];
    const a = await c.syncChat(first.link, mine, {});
    // Tab B syncs again and receives A's changes.
    const b2 = await tabB.syncChat(b.link, b.messages, {});
    const server = await c.chat(avatar, file);
    // force overwrites (only on request)
    const forced = await c.syncChat(a.link, a.messages.slice(0, 1), { force: true });
    const afterForce = await c.chat(avatar, file);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { first, b, a, b2, server, forced, afterForce };
  }));
  assert.equal(r.first.localChanged, false);
  assert.equal(r.a.localChanged, true, "tab A learned about tab B's message");
  const texts = r.server.slice(1).map((m) => m.mes);
  assert.deepEqual(texts, ["Hello, traveller!", "Hi there", "from tab B", "from tab A"]);
  assert.deepEqual(r.server[1].swipes, ["Hello, traveller!", "Hello!"], "both versions of the edited greeting are kept");
  assert.equal(r.server[0].chat_metadata.integrity, "chat-1", "saved under the chat's integrity id");
  assert.deepEqual(r.b2.messages.map((m) => m.mes), texts);
  assert.equal(r.b2.localChanged, true);
  assert.equal(r.afterForce.length, 2, "force replaced the server copy");
});

test("two writers syncing one chat at the same time, many rounds: no message is missing on the server", async () => {
  const r = ok(await inPage(env.page, env.stUrl, async (nct, c) => {
    const fast = { rateLimit: { capacity: 1e6, refillPerSec: 1e6 } };
    const a = new nct.SillyTavernClient({ baseUrl: c.baseUrl, ...fast });
    const b = new nct.SillyTavernClient({ baseUrl: c.baseUrl, ...fast });
    const avatar = await a.createCharacter({ spec: "chara_card_v2", data: { name: "Duet" } }, undefined, {});
    const file = "Duet - concurrent";
    const t = Date.parse("2026-11-27T05:00:00.000Z");
    let link = (await a.syncChat({ avatar, file, integrity: "duet-1" }, [{ name: "Duet", isUser: false, mes: "Hi", sendDate: t }], {})).link;
    let known = (await a.chat(avatar, file)).slice(1).map((m) => ({ name: m.name, isUser: m.is_user, mes: m.mes, sendDate: Date.parse(m.send_date) }));
    const rounds = [];
    for (let i = 0; i < 20; i++) {
      const mine = { name: "User", isUser: true, mes: `A ${i}`, sendDate: t + 1000 * (2 * i + 1) };
      const theirs = { name: "User", isUser: true, mes: `B ${i}`, sendDate: t + 1000 * (2 * i + 2) };
      const [ra, rb] = await Promise.all([a.syncChat(link, [...known, mine], {}), b.syncChat(link, [...known, theirs], {})]);
      const server = (await c.chat(avatar, file)).slice(1);
      const texts = server.map((m) => m.mes);
      rounds.push({ missing: [mine.mes, theirs.mes].filter((x) => !texts.includes(x)), overwritten: ra.overwritten + rb.overwritten, conflicts: ra.conflicts + rb.conflicts });
      known = server.map((m) => ({ name: m.name, isUser: m.is_user, mes: m.mes, sendDate: Date.parse(m.send_date) }));
      link = ra.link;
    }
    const final = (await c.chat(avatar, file)).slice(1).map((m) => m.mes);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { rounds, final };
  }));
  const missing = r.rounds.flatMap((x, i) => x.missing.map((m) => `round ${i}: ${m}`));
  assert.deepEqual(missing, [], `messages missing on the server right after both syncs resolved; rounds: ${JSON.stringify(r.rounds)}`);
  assert.equal(r.final.length, 1 + 2 * 20);
  // Every overwrite that was repaired is reported; the report adds up.
  for (const x of r.rounds) assert.ok(x.conflicts >= x.overwritten);
  console.log(`# concurrent rounds: ${r.rounds.filter((x) => x.overwritten > 0).length} of ${r.rounds.length} repaired an overwritten save`);
});

// Caching, request sharing and rate limiting of the SillyTavernClient against a real SillyTavern.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, inPage } from "./harness.mjs";

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

const run = (fn, arg) => inPage(env.page, env.stUrl, fn, arg);
const ok = (r) => { assert.ok(!r.err, `unexpected error: ${JSON.stringify(r.err)}`); return r.ok; };

// Counts the page's requests to a path since a mark (Resource Timing sees every fetch).
const countSince = `(path, mark) => performance.getEntriesByType("resource").slice(mark).filter((e) => e.name.includes(path)).length`;

test("identical concurrent reads share one request", async () => {
  const r = ok(await run(async (_, c, countSrc) => {
    const count = new Function("return " + countSrc)();
    await c.connect();
    const mark = performance.getEntriesByType("resource").length;
    const [a, b, d] = await Promise.all([c.characters(), c.characters(), c.characters()]);
    return { same: JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(b) === JSON.stringify(d), requests: count("/api/characters/all", mark) };
  }, countSince));
  assert.equal(r.same, true);
  assert.equal(r.requests, 1);
});

test("the cached list is served without a request, revalidated when stale, dropped after a write", async () => {
  const r = ok(await run(async (_, c, countSrc) => {
    const count = new Function("return " + countSrc)();
    const mark = performance.getEntriesByType("resource").length;
    const first = await c.characters({ maxAgeMs: 60000 });
    const t0 = performance.now();
    const second = await c.characters({ maxAgeMs: 60000 });
    const cachedMs = performance.now() - t0;
    const afterTwo = count("/api/characters/all", mark);
    // Stale: served at once, fresh list delivered through onUpdate.
    const updated = new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error("onUpdate was not called within 20 s")), 20000);
      c.characters({ maxAgeMs: 0, onUpdate: resolve });
    });
    const fresh = await updated;
    const afterStale = count("/api/characters/all", mark);
    // A write drops the cache: the next cached read goes to the server and sees the new character.
    const avatar = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Cachey" } }, undefined, {});
    const afterWrite = await c.characters({ maxAgeMs: 60000 });
    const requests = count("/api/characters/all", mark);
    await c.deleteCharacter(avatar, { deleteChats: true });
    return { n1: first.length, n2: second.length, cachedMs, afterTwo, fresh: fresh.length, afterStale, hasNew: afterWrite.some((x) => x.avatar === avatar), requests };
  }, countSince));
  assert.equal(r.n1, r.n2);
  assert.equal(r.afterTwo, 1, "second read came from the cache");
  assert.ok(r.cachedMs < 5, `cached read took ${r.cachedMs} ms`);
  assert.equal(r.fresh, r.n1);
  assert.equal(r.afterStale, 2, "the stale read triggered one background refresh");
  assert.equal(r.hasNew, true);
  assert.equal(r.requests, 3);
});

test("thumbnails: bytes and object URLs, cached", async () => {
  const r = ok(await run(async (_, c, countSrc) => {
    const count = new Function("return " + countSrc)();
    const mark = performance.getEntriesByType("resource").length;
    const bytes = await c.thumbnail("avatar", "default_Seraphina.png");
    const url = await c.thumbnailUrl("avatar", "default_Seraphina.png");
    const img = new Image();
    img.src = url;
    await img.decode();
    return { len: bytes.length, w: img.naturalWidth, h: img.naturalHeight, url: url.slice(0, 5), requests: count("/thumbnail", mark) };
  }, countSince));
  assert.ok(r.len > 1000);
  assert.equal(r.url, "blob:");
  assert.ok(r.w > 0 && r.h > 0, "the blob URL renders as an image");
  assert.equal(r.requests, 1);
});

test("the token bucket paces a burst of calls", async () => {
  const r = ok(await run(async (nct, _c, stUrl) => {
    const c = new nct.SillyTavernClient({ baseUrl: stUrl, rateLimit: { capacity: 2, refillPerSec: 5 } });
    await c.connect(); // takes one token
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await c.groups();
    return performance.now() - t0;
  }, env.stUrl));
  // 1 token left after connect + 5 calls → 4 waits of 200 ms
  assert.ok(r >= 750, `5 calls took ${r} ms`);
  assert.ok(r < 5000, `5 calls took ${r} ms`);
});

test("character details load lazily in batches, failures in their own slot", async () => {
  const r = ok(await run(async (nct, c) => {
    const list = await c.characters({ maxAgeMs: 60000 });
    const avatars = [list[0].avatar, "missing-character.png", list[0].avatar];
    const out = await c.characterDetails(avatars, { batchSize: 2 });
    return out.map((x) => (nct.isTavernError(x) ? `error:${x.code}` : `ok:${x.name}`));
  }));
  assert.equal(r.length, 3);
  assert.match(r[0], /^ok:/);
  assert.match(r[1], /^error:(not_found|server_error)$/);
  assert.equal(r[2], r[0]);
});

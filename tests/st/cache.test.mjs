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

test("a reloaded page is served the list and thumbnails from the IndexedDB store given to useCache; a write invalidates them", async () => {
  const db = `nct-st-cache-${Date.now()}`;
  const toServer = `(base, mark) => performance.getEntriesByType("resource").slice(mark).filter((e) => e.name.startsWith(base)).map((e) => new URL(e.name).pathname)`;
  // Page 1: fill the store. A second client in the same page reads it back, which also waits
  // for the writes to commit before the reload.
  const first = ok(await run(async (nct, c, db) => {
    const store = await nct.TavernStore.open(db);
    c.useCache(store);
    const r = await c.cachedCharacters({ maxAgeMs: 60000 });
    const avatar = r.value[0].avatar;
    const thumb = await c.thumbnail("avatar", avatar);
    const other = new nct.SillyTavernClient({ baseUrl: c.baseUrl });
    other.useCache(store);
    const again = await other.cachedCharacters({ maxAgeMs: 60000 });
    return { n: r.value.length, fromCache: r.fromCache, avatar, thumbLen: thumb.length, otherFromCache: again.fromCache, persistent: store.info().persistent };
  }, db));
  assert.equal(first.persistent, true);
  assert.equal(first.fromCache, false);
  assert.equal(first.otherFromCache, true);

  await env.page.reload();
  await env.page.evaluate(async () => {
    const m = await import("/pkg/nextchat_tavern.js");
    await m.default();
    window.nct = m;
  });

  // Page 2: a new client over the same store answers before any request to the server.
  const r = ok(await run(async (nct, c, { db, avatar, toServer }) => {
    const sent = new Function("return " + toServer)();
    const store = await nct.TavernStore.open(db);
    c.useCache(store);
    const mark = performance.getEntriesByType("resource").length;
    const list = await c.cachedCharacters({ maxAgeMs: 60000 });
    const thumb = await c.thumbnail("avatar", avatar);
    const beforeAnyRequest = sent(c.baseUrl, mark);
    // Older than maxAgeMs: still served from the store, flagged stale, refreshed in the background.
    const reloaded = new nct.SillyTavernClient({ baseUrl: c.baseUrl });
    reloaded.useCache(store);
    let stale;
    const updated = await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error("onUpdate was not called within 20 s")), 20000);
      reloaded.cachedCharacters({ maxAgeMs: 0, onUpdate: resolve }).then((x) => { stale = x; }, reject);
    });
    // A write through any client drops the server's entries from the store.
    const created = await c.createCharacter({ spec: "chara_card_v2", data: { name: "Persisty" } }, undefined, {});
    const fresh = new nct.SillyTavernClient({ baseUrl: c.baseUrl });
    fresh.useCache(store);
    const afterWrite = await fresh.cachedCharacters({ maxAgeMs: 60000 });
    await c.deleteCharacter(created, { deleteChats: true });
    return {
      n: list.value.length, fromCache: list.fromCache, stale: list.stale, thumbLen: thumb.length, beforeAnyRequest,
      staleFromCache: stale.fromCache, staleFlag: stale.stale, updated: updated.length,
      afterWriteFromCache: afterWrite.fromCache, hasNew: afterWrite.value.some((x) => x.avatar === created),
    };
  }, { db, avatar: first.avatar, toServer }));
  assert.deepEqual(r.beforeAnyRequest, [], "no request to SillyTavern, not even the CSRF token");
  assert.equal(r.fromCache, true);
  assert.equal(r.stale, false);
  assert.equal(r.n, first.n);
  assert.equal(r.thumbLen, first.thumbLen);
  assert.equal(r.staleFromCache, true);
  assert.equal(r.staleFlag, true);
  assert.equal(r.updated, first.n);
  assert.equal(r.afterWriteFromCache, false, "the write cleared the store's copy");
  assert.equal(r.hasNew, true);
});

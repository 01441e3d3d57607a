// SillyTavern client benchmark, in headless Chromium against a real local SillyTavern:
//   st_call_overhead      one read call through our client (CSRF, limiter, sharing, typed result)
//                         vs a raw fetch + JSON.parse of the same endpoint, same page, same server
//   st_cached_list_1000   the character list of 1,000 characters from our memory cache vs the same
//                         list from a plain JS cache (a Map entry with its fetch time, max-age check,
//                         shallow copy) in front of a raw fetch: both sides serve a cached list
//   st_fresh_list_1000    the same list fetched fresh from the server by both: our client vs a raw
//                         fetch + JSON.parse
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAll } from "../tests/st/harness.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = await startAll();
try {
  // 1,000 characters: copies of the seeded card straight into the data folder.
  const port = new URL(env.stUrl).port;
  const chars = join(root, `.cache/sillytavern/run-${port}/data/default-user/characters`);
  const seed = readdirSync(chars).find((f) => f.endsWith(".png"));
  mkdirSync(chars, { recursive: true });
  for (let i = 0; i < 1000 - 1; i++) {
    const f = join(chars, `bench_${String(i).padStart(4, "0")}.png`);
    if (!existsSync(f)) copyFileSync(join(chars, seed), f);
  }
  const out = await env.page.evaluate(async (stUrl) => {
    const c = new window.nct.SillyTavernClient({ baseUrl: stUrl, rateLimit: { capacity: 1e6, refillPerSec: 1e6 } });
    await c.connect();
    const token = (await (await fetch(stUrl + "/csrf-token", { credentials: "include" })).json()).token;
    const raw = async (path) => {
      const r = await fetch(stUrl + path, { method: "POST", credentials: "include", headers: { "Content-Type": "application/json", "X-CSRF-Token": token }, body: "{}" });
      return r.json();
    };
    // Median of n samples; each sample times `inner` calls (timer resolution is ~0.1 ms).
    const median = async (fn, n, inner = 1) => {
      for (let i = 0; i < 3; i++) await fn();
      const t = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        for (let j = 0; j < inner; j++) await fn();
        t.push((performance.now() - t0) / inner);
      }
      t.sort((a, b) => a - b);
      return t[t.length >> 1];
    };
    const res = {};
    // Interleave the two sides twice and keep each side's best median.
    const pair = async (name, ours, peer, n, inner = 1) => {
      const o = Math.min(await median(ours, n, inner), await median(ours, n, inner));
      const p = Math.min(await median(peer, n, inner), await median(peer, n, inner));
      res[name] = { ours: o, peer: p };
    };
    await pair("st_call_overhead", () => c.groups(), () => raw("/api/groups/all"), 40);
    const count = (await c.characters()).length;
    // The peer's cache: what an app would write around fetch — one entry per request, its age
    // checked on each read, a shallow copy returned (as ours does).
    const peerCache = new Map();
    const peerCached = async (path, maxAgeMs) => {
      const hit = peerCache.get(path);
      if (hit && performance.now() - hit.at < maxAgeMs) return hit.value.slice();
      const value = await raw(path);
      peerCache.set(path, { at: performance.now(), value });
      return value.slice();
    };
    await pair("st_cached_list_1000", () => c.characters({ maxAgeMs: 1e9 }), () => peerCached("/api/characters/all", 1e9), 10, 100);
    await pair("st_fresh_list_1000", () => c.characters(), () => raw("/api/characters/all"), 10);
    return { res, count };
  }, env.stUrl);
  if (out.count < 1000) throw new Error(`expected 1000 characters, server listed ${out.count}`);
  const f = (x) => (x >= 1 ? x.toFixed(3) : x.toPrecision(3));
  for (const [name, { ours, peer }] of Object.entries(out.res)) {
    console.log(`BENCH ${name} ours_ms=${f(ours)} peer_ms=${f(peer)} ratio=${(peer / ours).toFixed(2)}`);
  }
  const o = out.res.st_call_overhead;
  console.log(`st_call_overhead: added per call ${(o.ours - o.peer).toFixed(3)} ms (goal < 2 ms); cached list of ${out.count}: ${f(out.res.st_cached_list_1000.ours)} ms (goal < 5 ms); fresh list: ${f(out.res.st_fresh_list_1000.ours)} ms vs ${f(out.res.st_fresh_list_1000.peer)} ms`);
} finally {
  await env.stop();
}

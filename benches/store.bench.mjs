// Storage benchmark in headless Chromium, driven by playwright-core: ours
// (TavernStore from the built pkg/, IndexedDB one record per message) against NextChat's way
// (the whole chat store JSON-serialised and written as ONE value with the real idb-keyval
// `set`, as NextChat's zustand persist storage does), side by side in one page and one run.
//   node benches/store.bench.mjs          (after `make pkg`; scripts/bench.sh runs it)
//   node benches/store.bench.mjs --serve  (only serve the page, to investigate by hand)
// Prints `BENCH <name> ours_ms=<x> peer_ms=<y> ratio=<peer/ours>`.
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../tests/e2e/browser.mjs";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadPackage } from "./harness.mjs";
import { bigCard } from "./store-page/cards.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const MIME = { ".css": "text/css", ".png": "image/png", ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json" };
// "/" → benches/store-page/, "/pkg/" → pkg/, "/idb-keyval.js" → the npm package's ESM build.
// "/demo/" → the demo app (its "../pkg/" → pkg/), same origin, so the bench page can fill the
// demo's database; "/bigcard.png" → the 6,000-entry card as a PNG card file (made below).
const tmp = mkdtempSync(join(tmpdir(), "nct-bench-"));
const bigPng = join(tmp, "bigcard.png");
const avatarPng = readFileSync(join(root, "tests/fixtures/cards/not_a_card_plain.png"));
{
  const m = await loadPackage();
  writeFileSync(bigPng, m.exportCard(bigCard(6000), { format: "png", avatar: avatarPng }));
}
const mounts = [
  ["/demo/pkg/", join(root, "pkg")],
  ["/demo/", join(root, "www-demo")],
  ["/bigcard.png", bigPng],
  ["/pkg/", join(root, "pkg")],
  ["/idb-keyval.js", join(root, "node_modules/idb-keyval/dist/index.js")],
  ["/", join(root, "benches/store-page")],
];
function locate(urlPath) {
  const path = decodeURIComponent(urlPath.split("?")[0]);
  for (const [prefix, target] of mounts) {
    if (!path.startsWith(prefix)) continue;
    if (!prefix.endsWith("/")) return path === prefix ? target : null;
    const rel = normalize(path.slice(prefix.length)).replace(/^([/\\])+/, "");
    const file = join(target, rel === "" || rel === "." ? "index.html" : rel);
    if (file !== target && !file.startsWith(target + sep)) return null;
    try { return statSync(file).isFile() ? file : null; } catch { return null; }
  }
  return null;
}
const server = createServer((req, res) => {
  const file = locate(req.url);
  if (!file) return res.writeHead(404).end();
  res.writeHead(200, {
    "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache",
    // Cross-origin isolation: performance.now() at 5 µs instead of 100 µs resolution.
    "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp",
  });
  createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/`;

if (process.argv.includes("--serve")) {
  // Keep the bench page up for poking at it by hand (benches/store-page/probe.js has probes).
  console.log(`storage bench page: ${base}`);
  await new Promise(() => {});
}

const fmt = (ms) => (ms >= 1 ? ms.toFixed(3) : ms.toPrecision(3));
function line(name, ours, peer, note = "") {
  console.log(`BENCH ${name} ours_ms=${fmt(ours)} peer_ms=${fmt(peer)} ratio=${(peer / ours).toFixed(2)}${note ? `  # ${note}` : ""}`);
}

// `--only=big,raw,demo` runs just those sections (append, list, big, raw, demo).
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const want = (what) => !only || only.includes(what);

const browser = await launch();
try {
  const page = await browser.context.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e.message));
  await page.goto(base);
  await page.waitForFunction(() => window.benchReady);
  await page.evaluate(() => window.benchReady);

  // 1. Append one message to a chat of 100, 1,000, 10,000 messages. Interleaved twice
  //    (ours, peer, ours, peer) and the better median of each kept, like benches/harness.mjs.
  const appendOurs = {};
  for (const n of want("append") ? [100, 1000, 10000] : []) {
    const setup = await page.evaluate((n) => bench.setupAppend(n), n);
    const o1 = await page.evaluate(() => bench.timeAppend("ours"));
    const p1 = await page.evaluate(() => bench.timeAppend("peer"));
    const o2 = await page.evaluate(() => bench.timeAppend("ours"));
    const p2 = await page.evaluate(() => bench.timeAppend("peer"));
    appendOurs[n] = Math.min(o1, o2);
    line(`store_append_message_chat_${n}`, Math.min(o1, o2), Math.min(p1, p2), `NextChat store ${(setup.ncBytes / 1e6).toFixed(2)} MB JSON, 5 sessions`);
    if (n === 10000) {
      // 2. The last 50 messages of the 10,000-message chat (peer: read + parse the blob, slice).
      const o = await page.evaluate(() => bench.timeLast50("ours"));
      const p = await page.evaluate(() => bench.timeLast50("peer"));
      if (o.got !== 50 || p.got !== 50) throw new Error(`last-50 returned ${o.got}/${p.got}`);
      line("store_last_50_messages_of_10000", o.ms, p.ms, "goal: ours < 10 ms");
    }
  }
  const flat = appendOurs[10000] / appendOurs[100];
  if (want("append")) console.log(`BENCH-NOTE append ours 10000/100 = ${flat.toFixed(2)} (flat = ~1)`);

  // 3. First page (50, by name) of a 10,000-character library (peer: one blob, parse + sort).
  if (want("list")) {
  const lib = await page.evaluate(() => bench.setupLibrary(10000));
  if (lib.total !== 10000) throw new Error(`library has ${lib.total} characters`);
  const o = await page.evaluate(() => bench.timeListFirstPage("ours"));
  const p = await page.evaluate(() => bench.timeListFirstPage("peer"));
  if (o.first !== p.first || o.count !== 50) throw new Error(`first pages differ: ${o.first} vs ${p.first}`);
  line("store_list_first_page_of_10000_characters", o.ms, p.ms, `goal: ours < 300 ms; importCards(10,000) took ${lib.importMs.toFixed(0)} ms`);
  }

  // 4. Store and load one character with a 6,000-entry lorebook.
  if (want("big")) {
    const o1 = await page.evaluate(() => bench.timeBigCard("ours"));
    const p1 = await page.evaluate(() => bench.timeBigCard("peer"));
    const o2 = await page.evaluate(() => bench.timeBigCard("ours"));
    const p2 = await page.evaluate(() => bench.timeBigCard("peer"));
    if (o1.entries !== 6000 || p1.entries !== 6000) throw new Error(`big card came back with ${o1.entries}/${p1.entries} entries`);
    const o = o1.total < o2.total ? o1 : o2, p = p1.total < p2.total ? p1 : p2;
    line("store_big_character_6000_entries_store_and_load", o.total, p.total,
      `store ${o.store.toFixed(0)} ms + load ${o.load.toFixed(0)} ms (peer ${p.store.toFixed(0)} + ${p.load.toFixed(0)}); card JSON ${(o1.jsonBytes / 1e6).toFixed(1)} MB; goal: ours < 100 ms`);
  }

  // 5. Append: ours against the hand-written single-transaction IndexedDB append (probe.js).
  if (want("raw")) {
    const o1 = await page.evaluate(() => bench.timeAppendVsRaw("ours"));
    const p1 = await page.evaluate(() => bench.timeAppendVsRaw("peer"));
    const o2 = await page.evaluate(() => bench.timeAppendVsRaw("ours"));
    const p2 = await page.evaluate(() => bench.timeAppendVsRaw("peer"));
    line("store_append_vs_raw_idb", Math.min(o1, o2), Math.min(p1, p2), "peer: get chat + add message + put chat in one hand-written transaction; goal: ratio >= 0.5");
  }

  // 6. The demo's Library: open it with 1,000 characters, then import the big card through it.
  if (want("demo")) {
    const n = await page.evaluate(async (png) => bench.setupDemoLibrary(1000, png), [...avatarPng]);
    if (n !== 1000) throw new Error(`demo library has ${n} characters`);
    const demo = await browser.context.newPage();
    demo.on("pageerror", (e) => console.error("demo pageerror:", e.message));
    await demo.goto(new URL("demo/#/", base).href);
    await demo.bringToFront(); // a page in the background gets its timers throttled (≥ 1 s per setTimeout)
    await demo.waitForSelector("main, #app, body");
    // In the page: switch to the Library (hash route) and time until the grid and its count show.
    const openLibrary = () => demo.evaluate(async () => {
      location.hash = "#/";
      await new Promise((ok) => setTimeout(ok, 50));
      const t0 = performance.now();
      location.hash = "#/library";
      await new Promise((ok) => {
        const tick = () => (/^1,?0\d\d characters? ·/.test(document.getElementById("library-status")?.textContent ?? "") &&
          document.querySelectorAll("#library-grid .character").length ? ok() : requestAnimationFrame(tick));
        tick();
      });
      return performance.now() - t0;
    });
    const opens = [];
    for (let i = 0; i < 4; i++) opens.push(await openLibrary()); // the first one also makes the thumbnails
    await page.bringToFront();
    const peerOpen = await page.evaluate(() => bench.timeLibraryPeer());
    await demo.bringToFront();
    const warm = opens.slice(1).sort((a, b) => a - b)[1];
    line("demo_library_open_1000_characters", warm, peerOpen.ms, `first open (makes 60 thumbnails) ${opens[0].toFixed(0)} ms; peer: one JSON value read, parsed, tags, sorted; goal: ours < 300 ms`);

    // Timed in the page from the file input's change event (the file's trip over the DevTools
    // protocol is not the app's time) to the status line naming the imported character.
    await demo.evaluate(() => {
      const input = document.getElementById("library-import");
      input.addEventListener("change", () => { window.__importT0 = performance.now(); }, { capture: true, once: true });
      const st = document.getElementById("library-status");
      const obs = new MutationObserver(() => {
        if (/^Imported The Chronicler of Eldoria/.test(st.textContent)) { window.__importMs = performance.now() - window.__importT0; obs.disconnect(); }
      });
      obs.observe(st, { childList: true, characterData: true, subtree: true });
    });
    await demo.setInputFiles("#library-import", bigPng);
    await demo.waitForFunction(() => window.__importMs !== undefined, null, { timeout: 120_000, polling: 20 });
    const importMs = await demo.evaluate(() => window.__importMs);
    await page.bringToFront();
    const peerImport = await page.evaluate(() => bench.timeImportPeer("/bigcard.png"));
    line("demo_library_import_6000_entry_card", importMs, peerImport, "ours: the Library view (decode, store, redraw 1,001 characters); peer: decode + keep it NextChat's way; goal: ours < 1500 ms");
    await demo.close();
  }
} finally {
  await browser.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}

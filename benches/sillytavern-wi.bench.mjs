// World Info against the real thing: SillyTavern's own `checkWorldInfo`, called in its page
// in Chromium, and our `LorebookMatcher` loaded into the same page, on the same generated
// books (1k/5k/20k entries, 5% regex keys of the common real-card shape, see wi-data.mjs)
// at scan depth 2 and 20. The activated sets are compared; any difference is printed.
//
// SillyTavern (installed from npm by scripts/sillytavern.sh) is only called, never copied:
// its page imports its own /scripts/world-info.js; the book goes into that module's cache
// and its settings through `updateWorldInfoSettings`. Token counting on both sides is the
// length estimate (SillyTavern's "None" tokenizer, our default), and the budget is large
// enough never to overflow, so the activated sets must be equal.
//
// Prints BENCH lines: ours_ms = LorebookMatcher.scanCount (book compiled once, as a
// client keeps it), peer_ms = SillyTavern's checkWorldInfo (dry run); both in the page.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../tests/e2e/browser.mjs";
import { freePort } from "../tests/st/harness.mjs";
import { generator } from "./wi-data.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = await freePort();
const stUrl = `http://127.0.0.1:${port}`;
execFileSync("scripts/sillytavern.sh", ["start", String(port), stUrl], { cwd: root, stdio: "inherit" });

const fmt = (ms) => (ms >= 1 ? ms.toFixed(3) : ms.toPrecision(3));
let browser;
try {
  browser = await launch();
  const page = await browser.context.newPage();
  // Our package, handed to the page under SillyTavern's origin by the browser itself.
  await page.route("**/__nextchat_tavern/**", (route) => {
    const file = new URL(route.request().url()).pathname.split("/").pop();
    route.fulfill({
      body: readFileSync(join(root, "pkg", file)),
      contentType: file.endsWith(".wasm") ? "application/wasm" : "text/javascript",
    });
  });
  await page.goto(stUrl);
  // SillyTavern has loaded its settings (and its World Info settings with them, which would
  // overwrite ours) once the world-info module knows the world names.
  await page.waitForFunction(async () => {
    if (!globalThis.SillyTavern?.getContext) return false;
    return Array.isArray((await import("/scripts/world-info.js")).world_names);
  }, null, { timeout: 300_000, polling: 500 });
  await page.evaluate(async () => {
    globalThis.wi = await import("/scripts/world-info.js");
    globalThis.SillyTavern.getContext().powerUserSettings.tokenizer = 0; // "None": length estimate
    const m = await import("/__nextchat_tavern/nextchat_tavern.js");
    await m.default();
    globalThis.nct = m;
    globalThis.median = async (fn, runs) => {
      const t = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await fn();
        t.push(performance.now() - t0);
      }
      t.sort((a, b) => a - b);
      return t[t.length >> 1];
    };
  });

  const gen = generator(0x5eed1234);
  const chat = gen.chat(20, 220);
  const maxContext = 1_000_000;
  for (const n of [1000, 5000, 20000]) {
    const book = gen.book(n, { regexShare: 0.05, shape: "alt" });
    for (const depth of [2, 20]) {
      const r = await page.evaluate(
        async ({ book, chat, depth, maxContext, n }) => {
          const { wi, nct, median } = globalThis;
          // SillyTavern: its entry defaults, the book in its cache, its settings.
          const stBook = { entries: {} };
          for (const [uid, e] of Object.entries(book.entries)) stBook.entries[uid] = { ...wi.newWorldInfoEntryTemplate, ...e };
          wi.worldInfoCache.set("bench", stBook);
          wi.updateWorldInfoSettings({
            world_info_depth: depth, world_info_recursive: true, world_info_match_whole_words: true,
            world_info_case_sensitive: false, world_info_budget: 100, world_info_budget_cap: 0,
            world_info_include_names: true, world_info_min_activations: 0, world_info_max_recursion_steps: 0,
            world_info_use_group_scoring: false, world_info_character_strategy: 1,
          }, ["bench"]);
          const stChat = chat.map((x) => `${x.name}: ${x.mes}`).reverse();
          const scanData = { trigger: "normal", personaDescription: "", characterDescription: "", characterPersonality: "", characterDepthPrompt: "", scenario: "", creatorNotes: "" };
          const st = () => wi.checkWorldInfo(stChat, maxContext, true, scanData);
          const stSet = [...(await st()).allActivatedEntries].map((e) => e.uid).sort((a, b) => a - b);

          // Ours: compiled once, then scanned.
          const settings = { depth, recursive: true, matchWholeWords: true, caseSensitive: false, budget: 100, includeNames: true };
          const c0 = performance.now();
          const matcher = new nct.LorebookMatcher("bench", book, settings, "global");
          const compileMs = performance.now() - c0;
          const req = { chat, settings, maxContext, trigger: "normal", seed: 1, dryRun: true };
          const ourSet = matcher.scan(req).activated.map((a) => a.uid).sort((a, b) => a - b);
          const ours = () => matcher.scanCount(req);
          const runs = n >= 20000 ? 3 : 5;
          await median(ours, 2);
          await median(st, 1);
          // Interleaved, best of two medians each.
          const o1 = await median(ours, runs * 3), p1 = await median(st, runs);
          const o2 = await median(ours, runs * 3), p2 = await median(st, runs);
          matcher.free();
          return { stSet, ourSet, ours: Math.min(o1, o2), peer: Math.min(p1, p2), compileMs };
        },
        { book, chat, depth, maxContext, n },
      );
      const name = `wi_vs_sillytavern_checkWorldInfo_${n / 1000}k_depth${depth}`;
      console.log(`BENCH ${name} ours_ms=${fmt(r.ours)} peer_ms=${fmt(r.peer)} ratio=${(r.peer / r.ours).toFixed(2)}`);
      const onlyOurs = r.ourSet.filter((u) => !r.stSet.includes(u));
      const onlySt = r.stSet.filter((u) => !r.ourSet.includes(u));
      if (onlyOurs.length || onlySt.length) {
        console.log(`DIFF ${name}: ours ${r.ourSet.length}, SillyTavern ${r.stSet.length}; only ours [${onlyOurs.slice(0, 10)}], only SillyTavern [${onlySt.slice(0, 10)}]`);
        process.exitCode = 1;
      } else {
        console.log(`  same activated set (${r.ourSet.length} entries); our compile ${r.compileMs.toFixed(0)} ms (once per book)`);
      }
    }
  }
} finally {
  await browser?.close();
  execFileSync("scripts/sillytavern.sh", ["stop", String(port)], { cwd: root, stdio: "inherit" });
}

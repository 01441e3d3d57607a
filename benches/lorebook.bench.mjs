// Lorebook (World Info) activation benchmark: 20,000 entries × 3 keys (5% regex)
// over a 20-message window, and the same book over a 1.5 MB chat (scan depth 1000);
// a book whose regex keys have the common real-card shape `/\b(?:a|b)(?:s|es)?\b/i`
// at scan depth 2 and 20; and the one-call `scanLorebooks` (converts and compiles the
// book every call) against the peer preparing and scanning.
//
// ours: LorebookMatcher (compiled once: Aho-Corasick over plain keys, regex keys
//       compiled once on a linear-time engine), `scanCount` per activation pass.
// peer: a straightforward JavaScript implementation of the same activation rules
//       that loops over entries and keys the way SillyTavern does (haystack built per
//       scan depth, lower-cased once per haystack, one cached RegExp per key).
//
// Prints BENCH lines (see harness.mjs) plus the compiled matcher's memory and compile time.
import { compare, loadPackage, time } from "./harness.mjs";
import { generator } from "./wi-data.mjs";

const m = await loadPackage();

// ---- deterministic data (see wi-data.mjs) ------------------------------------------
const gen = generator();
const N = 20000;
const book = gen.book(N, { regexShare: 0.05, shape: "simple" });
const chat20 = gen.chat(20, 220);
const chatBig = gen.chat(1000, 1500);
// The same size with the most common regex key shape of real cards (an alternation of
// words with optional endings, no single literal prefix).
const bookAlt = gen.book(N, { regexShare: 0.05, shape: "alt" });

const settings = { depth: 2, recursive: true, matchWholeWords: true, caseSensitive: false, budget: 25, includeNames: true };

// ---- peer: the same rules, entry by entry, key by key --------------------------------
const enc = new TextEncoder();
const tokens = (s) => Math.ceil(enc.encode(s).length / 3.35);
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function parseRegexFromString(input) {
  const match = input.match(/^\/([\w\W]+?)\/([gimsuy]*)$/);
  if (!match) return null;
  const [, pattern, flags] = match;
  if (pattern.match(/(^|[^\\])\//)) return null;
  try { return new RegExp(pattern.replace("\\/", "/"), flags); } catch { return null; }
}
class Peer {
  constructor(book, settings) {
    this.s = settings;
    // Sorted once (order descending, ties by uid), keys prepared once.
    this.entries = Object.values(book.entries).sort((a, b) => b.order - a.order || a.uid - b.uid).map((e) => ({
      e,
      keys: e.key.map((k) => k.trim()).filter(Boolean).map((k) => {
        const rx = parseRegexFromString(k);
        if (rx) return { rx };
        const t = k.toLowerCase();
        if (t.split(/\s+/).length > 1) return { sub: t };
        return { ww: new RegExp(`(?:^|\\W)(${escapeRegex(t)})(?:$|\\W)`) };
      }),
    }));
  }
  scan(chat, depth, maxContext) {
    const msgs = chat.filter((x) => !x.isSystem).reverse().map((x) => (this.s.includeNames ? `${x.name}: ${x.mes}` : x.mes));
    const budget = Math.max(1, Math.round((this.s.budget * maxContext) / 100));
    const activated = new Set();
    const recurse = [];
    let allText = "", overflow = false, passes = 0;
    for (;;) {
      passes++;
      let hay = "\x01" + msgs.slice(0, depth).join("\n\x01");
      if (recurse.length) hay += "\n\x01" + recurse.join("\n\x01");
      const low = hay.toLowerCase();
      const cands = [];
      for (const it of this.entries) {
        if (activated.has(it)) continue;
        for (const k of it.keys) {
          const hit = k.rx ? k.rx.test(hay) : k.sub !== undefined ? low.includes(k.sub) : k.ww.test(low);
          if (hit) { cands.push(it); break; }
        }
      }
      const prev = allText ? tokens(allText) : 0;
      let text = "";
      const fresh = [];
      for (const it of cands) {
        if (overflow) continue;
        text += it.e.content + "\n";
        if (prev + tokens(text) >= budget) { overflow = true; continue; }
        activated.add(it); fresh.push(it);
      }
      allText += text;
      if (this.s.recursive && !overflow && fresh.length) recurse.push(fresh.map((x) => x.e.content).join("\n"));
      else break;
    }
    return activated.size;
  }
}

// ---- run --------------------------------------------------------------------------
const t0 = process.hrtime.bigint();
const matcher = new m.LorebookMatcher("bench", book, settings, "global");
const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
const stats = matcher.stats();
const p0 = process.hrtime.bigint();
const peer = new Peer(book, settings);
const peerPrepMs = Number(process.hrtime.bigint() - p0) / 1e6;
console.log(`lorebook: ${stats.entries} entries, ${stats.plainPatterns} plain patterns, ${stats.regexKeys} regex keys; `
  + `automaton ${(stats.automatonBytes / 1048576).toFixed(1)} MiB; compile ${compileMs.toFixed(1)} ms `
  + `(in-wasm ${(stats.compileMicros / 1000).toFixed(1)} ms); peer prepare ${peerPrepMs.toFixed(1)} ms`);

for (const [name, chat, depth] of [["lorebook_scan_20msg_window", chat20, 20], ["lorebook_scan_1_5mb_chat", chatBig, 1000]]) {
  const req = { chat, settings: { ...settings, depth }, maxContext: 8192, trigger: "normal", seed: 1 };
  const ours = matcher.scanCount(req);
  const theirs = peer.scan(chat, depth, 8192);
  if (ours !== theirs) console.log(`note: ${name}: ours activated ${ours}, peer ${theirs} (rules differ in an edge case)`);
  // The peer needs about a minute per pass over the 1.5 MB chat: time it once.
  const opts = depth > 100 ? { warmup: 0, runs: 1 } : { warmup: 2, runs: 7 };
  compare(name, () => matcher.scanCount(req), () => peer.scan(chat, depth, 8192), opts);
}
const alt = new m.LorebookMatcher("bench", bookAlt, settings, "global");
const peerAlt = new Peer(bookAlt, settings);
for (const depth of [2, 20]) {
  const name = `lorebook_scan_regex_alternations_20k_depth${depth}`;
  const req = { chat: chat20, settings: { ...settings, depth }, maxContext: 8192, trigger: "normal", seed: 1 };
  const ours = alt.scanCount(req);
  const theirs = peerAlt.scan(chat20, depth, 8192);
  if (ours !== theirs) console.log(`note: ${name}: ours activated ${ours}, peer ${theirs}`);
  compare(name, () => alt.scanCount(req), () => peerAlt.scan(chat20, depth, 8192), { warmup: 2, runs: 7 });
}
{
  const req = {
    lorebooks: [{ name: "bench", source: "global", book: bookAlt }],
    chat: chat20, settings: { ...settings, depth: 2 }, maxContext: 8192, trigger: "normal", seed: 1,
  };
  compare("lorebook_scan_one_call_20k", () => m.scanLorebooks(req), () => new Peer(bookAlt, settings).scan(chat20, 2, 8192), { warmup: 1, runs: 3 });
}
const one = time(() => matcher.scanCount({ chat: chat20, settings: { ...settings, depth: 20 }, maxContext: 8192 }), { runs: 15 });
console.log(`ours per activation pass (20-message window): ${one.toFixed(3)} ms (goal < 5 ms)`);

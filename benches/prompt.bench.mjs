// buildPrompt with a big character lorebook: 6,000 entries shaped like a real card's
// `character_book` (V2 fields, SillyTavern extensions, 300–1,200 characters of content, 1–4 keys,
// some secondary keys and regex keys), a 20-message chat, default settings.
//
// ours: the same request again (the compiled book comes from the content-keyed cache), the same
//       request with a `cacheKey` (a stored character's id@rev: the book is not even read), and
//       the book passed as a `LorebookMatcher` compiled once.
// peer: the previous behaviour — the book converted and compiled on every call (forced here by
//       changing one entry's content before each call, so the cache never hits).
import { compare, loadPackage } from "./harness.mjs";
import { randomWords } from "./wi-data.mjs";

const m = await loadPackage();

const { rnd, pick, word } = randomWords(0x2545f491);
const names = Array.from({ length: 9000 }, () => { const w = word(); return w[0].toUpperCase() + w.slice(1); });
const FILLER = "the a of and to in is was he she it that for on with as his her at by from they we said old city river guard".split(" ");
const prose = (len) => { let s = ""; while (s.length < len) s += (rnd() < 0.06 ? pick(names) : pick(FILLER)) + (rnd() < 0.08 ? ". " : " "); return s.trim(); };

const N = 6000;
const entries = Array.from({ length: N }, (_, id) => {
  const name = names[id];
  const keys = [name, ...Array.from({ length: Math.floor(rnd() * 3) }, () => pick(names).toLowerCase())];
  if (rnd() < 0.03) keys.push(`/\\b${name.toLowerCase()}(s|'s)?\\b/i`);
  return {
    id, keys, secondary_keys: rnd() < 0.1 ? [pick(names)] : [], comment: `${name} (${pick(["place", "person", "faction", "item"])})`,
    content: `{{char}} knows ${name}. ${prose(300 + Math.floor(rnd() * 900))}`,
    constant: rnd() < 0.002, selective: true, insertion_order: Math.floor(rnd() * 200), enabled: true,
    position: rnd() < 0.8 ? "before_char" : "after_char", use_regex: true, case_sensitive: null, name,
    priority: 10, extensions: {
      position: 0, exclude_recursion: false, display_index: id, probability: 100, useProbability: true,
      depth: 4, selectiveLogic: 0, group: "", group_override: false, group_weight: 100, prevent_recursion: false,
      delay_until_recursion: false, scan_depth: null, match_whole_words: null, use_group_scoring: false,
      case_sensitive: null, automation_id: "", role: 0, vectorized: false, sticky: 0, cooldown: 0, delay: 0,
    },
  };
});
const book = { name: "Big world", description: "", scan_depth: 2, token_budget: 2048, recursive_scanning: false, extensions: {}, entries };
const character = { spec: "chara_card_v2", spec_version: "2.0", data: {
  name: "Aldric", description: prose(1500), personality: prose(300), scenario: prose(400), first_mes: prose(600),
  mes_example: `<START>\n{{user}}: ${prose(120)}\n{{char}}: ${prose(300)}`, creator_notes: "", system_prompt: "",
  post_history_instructions: "", alternate_greetings: [], tags: ["fantasy"], creator: "bench", character_version: "1",
  extensions: { talkativeness: "0.5", fav: false, world: "Big world", depth_prompt: { prompt: "", depth: 4, role: "system" } },
  character_book: book } };
const chat = Array.from({ length: 20 }, (_, i) => ({ name: i % 2 ? "Aldric" : "You", isUser: i % 2 === 0, mes: prose(400) }));
const request = (lorebooks) => ({ character, persona: { name: "You" }, chat, lorebooks, settings: { openai_max_context: 16384 } });
const cached = request([{ name: "Big world", source: "character", book }]);

const sizeKb = Math.round(JSON.stringify(book).length / 1024);
const first = m.buildPrompt(cached);
console.log(`# 6,000-entry book: ${sizeKb} KB of JSON, ${first.report.worldInfo.activated.length} entries activated, prompt ${first.report.totalTokens} tokens`);

let n = 0;
const uncached = () => { entries[0].content = `changed ${n++}`; return m.buildPrompt(cached); };
const opts = { warmup: 1, runs: 7 };
compare("build_prompt_6000_entries_repeated", () => m.buildPrompt(cached), uncached, opts);
entries[0].content = "{{char}} knows it.";
const keyed = request([{ name: "Big world", source: "character", book, cacheKey: "char-aldric@1" }]);
compare("build_prompt_6000_entries_cache_key", () => m.buildPrompt(keyed), uncached, opts);
const matcher = new m.LorebookMatcher("Big world", book, undefined, "character");
const viaMatcher = request([{ matcher }]);
compare("build_prompt_6000_entries_matcher", () => m.buildPrompt(viaMatcher), uncached, opts);
matcher.free();

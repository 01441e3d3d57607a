// Benchmark data shaped like real character cards (plain ES module: used by the bench page and
// by Node). Deterministic: the same seed gives the same cards on every run.
//
// * bigCard(6000): a V2 card as SillyTavern exports it, with a 6,000-entry embedded lorebook
//   (`character_book`): every entry has primary and secondary keys, a comment, a paragraph or
//   two of content and SillyTavern's `extensions` block (position, depth, probability, group,
//   recursion flags, …), like world-building cards on the card sites.
// * libraryCard(i): an ordinary card (description, personality, scenario, greetings, example
//   dialogue, tags, a few lorebook entries on some of them).

const PLACES = ["Eldoria", "the Ashen Reach", "Port Velan", "the Glass Marsh", "Hollowmere", "the Sunken Library", "Karst Keep", "the Ember Road", "Mistvale", "the Iron Coast"];
const FOLK = ["Seraphina", "Borin Ironhand", "Captain Ysolde", "the Shadowfangs", "Brother Aldous", "Nyx", "the Tide Council", "Old Marrow", "Lady Verran", "Kestrel"];
const THINGS = ["moonsilver blade", "ward-stone", "river spirits", "the Drowned Bell", "guild charter", "ember wine", "sky-whale", "rune lantern", "salt tithe", "bone dice"];
const SENT = [
  "{{char}} knows the old stories about %A and tells them only to those who have earned her trust.",
  "Travelers say that %B was last seen near %A, carrying the %C wrapped in oilcloth.",
  "The %C is older than the city walls; its true maker is argued about in every tavern of %A.",
  "When {{user}} mentions %B, {{char}} goes quiet, then changes the subject with a forced laugh.",
  "Every autumn the people of %A burn lanterns for %B, hoping the %C will keep the dark away for one more year.",
  "*She traces a map on the table with a wet finger.* \"%A lies two days east, past the ridge. Don't trust %B.\"",
  "The guards of %A are paid in %C, which makes them loyal to whoever controls the supply.",
  "Scholars disagree about %B: some call them heroes of the old war, others the reason %A fell.",
];

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
function paragraph(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(pick(r, SENT).replace("%A", pick(r, PLACES)).replace("%B", pick(r, FOLK)).replace("%C", pick(r, THINGS)));
  }
  return out.join(" ");
}

/** One lorebook entry in the V2 `character_book` shape with SillyTavern's extensions. */
function loreEntry(r, i) {
  const topic = i % 3 === 0 ? pick(r, PLACES) : i % 3 === 1 ? pick(r, FOLK) : pick(r, THINGS);
  const name = `${topic.replace(/^the /, "")} ${Math.floor(i / 30) + 1}`;
  return {
    id: i,
    keys: [name.toLowerCase(), `${topic.toLowerCase()}`, ...(i % 4 === 0 ? [`${name.split(" ")[0].toLowerCase()}s`] : [])],
    secondary_keys: i % 5 === 0 ? [pick(r, PLACES).toLowerCase()] : [],
    comment: `${name} (${["place", "person", "item"][i % 3]})`,
    content: paragraph(r, 2 + (i % 4)),
    constant: i % 97 === 0,
    selective: i % 5 === 0,
    insertion_order: 100 + (i % 50),
    enabled: i % 41 !== 0,
    position: i % 2 ? "after_char" : "before_char",
    use_regex: false,
    extensions: {
      position: i % 2, exclude_recursion: i % 7 === 0, prevent_recursion: false, delay_until_recursion: false,
      display_index: i, probability: 100, useProbability: true, depth: 4, selectiveLogic: 0,
      group: i % 11 === 0 ? `${pick(r, PLACES)} lore` : "", group_override: false, group_weight: 100,
      scan_depth: null, case_sensitive: null, match_whole_words: null, use_group_scoring: null,
      automation_id: "", role: null, vectorized: false, sticky: 0, cooldown: 0, delay: 0,
    },
  };
}

/** A card with an `entries`-entry lorebook, as exported by SillyTavern (V2 with `character_book`). */
export function bigCard(entries = 6000, seed = 7) {
  const r = rng(seed);
  return {
    spec: "chara_card_v2",
    spec_version: "2.0",
    data: {
      name: "The Chronicler of Eldoria",
      description: `{{char}} is the keeper of the Sunken Library, an ageless archivist who has recorded every treaty, feud and rumor of the realm. ${paragraph(r, 12)}`,
      personality: "patient, dry-humored, secretive about her own past, fiercely protective of books",
      scenario: `{{user}} arrives at the Sunken Library looking for a map. ${paragraph(r, 4)}`,
      first_mes: `*Dust drifts through a shaft of lantern light as {{char}} looks up from a ledger.* "Another visitor. ${paragraph(r, 3)}"`,
      mes_example: `<START>\n{{user}}: What do you know about the Drowned Bell?\n{{char}}: ${paragraph(r, 3)}\n<START>\n{{user}}: Who are the Shadowfangs?\n{{char}}: ${paragraph(r, 3)}`,
      creator_notes: "World-building card: the lorebook holds the whole realm (places, people, items). Works best with a large context.",
      system_prompt: "",
      post_history_instructions: "",
      alternate_greetings: [paragraph(r, 3), paragraph(r, 4)],
      tags: ["Fantasy", "World", "Lore", "Female", "Library"],
      creator: "archivist_anon",
      character_version: "3.2",
      extensions: { talkativeness: "0.5", fav: false, world: "Eldoria", depth_prompt: { prompt: "", depth: 4, role: "system" } },
      character_book: {
        name: "Eldoria Codex",
        description: "Everything about the realm of Eldoria.",
        scan_depth: 4, token_budget: 2048, recursive_scanning: true, extensions: {},
        entries: Array.from({ length: entries }, (_, i) => loreEntry(r, i)),
      },
    },
  };
}

const FIRST = ["Aria", "Borin", "Cass", "Dara", "Eli", "Fenn", "Gwen", "Hale", "Iris", "Jory", "Kael", "Lyra", "Mira", "Nox", "Orin", "Pell"];
const LAST = ["Vance", "Ironhand", "Thorne", "Ashby", "Marsh", "Quill", "Stroud", "Wren", "Hollow", "Voss"];
const TAGS = ["Fantasy", "Sci-Fi", "Romance", "Adventure", "Horror", "Comedy", "Female", "Male", "OC", "Anime", "Villain", "Wholesome", "Modern", "Historical", "Mystery"];

/** An ordinary library card (a few KB, some with a small lorebook). */
export function libraryCard(i) {
  const r = rng(1000 + i);
  const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]} ${Math.floor(i / 160) || ""}`.trim();
  const data = {
    name,
    description: `{{char}} is a ${pick(r, ["wandering", "retired", "young", "disgraced", "famous"])} ${pick(r, ["mercenary", "healer", "smuggler", "scholar", "knight", "bard"])} from ${pick(r, PLACES)}. ${paragraph(r, 6)}`,
    personality: "curious, stubborn, kind to strangers",
    scenario: paragraph(r, 2),
    first_mes: `*${name} looks up.* "${paragraph(r, 2)}"`,
    mes_example: `<START>\n{{user}}: Hello.\n{{char}}: ${paragraph(r, 2)}`,
    creator_notes: "",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: i % 3 ? [paragraph(r, 2)] : [],
    tags: [TAGS[i % TAGS.length], TAGS[(i * 5 + 3) % TAGS.length]],
    creator: `creator${i % 37}`,
    character_version: "1.0",
    extensions: { talkativeness: "0.5", fav: false, world: "", depth_prompt: { prompt: "", depth: 4, role: "system" } },
  };
  if (i % 4 === 0) {
    data.character_book = { name: `${name}'s notes`, entries: Array.from({ length: 8 }, (_, k) => loreEntry(r, k)), extensions: {} };
  }
  return { spec: "chara_card_v2", spec_version: "2.0", data };
}

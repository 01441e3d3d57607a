// Deterministic World Info benchmark data shaped like SillyTavern users' books: invented
// names as keys (3 per entry, some multi-word), a share of regex keys, short contents
// that mention other keys (recursion), and chats of filler prose with a few names.
//
// Regex key shapes:
//   "alt"    — an alternation of words with optional endings, `/\b(?:sword|blade)(?:s|es)?\b/i`
//              (the most common regex key in real cards: no single literal prefix);
//   "simple" — `/\bword(s|es)?\b/i` and `/word-?\d+/` (one required literal).

/** A seeded xorshift random source with the helpers benchmark data are made of: `rnd()` in
 * [0, 1), `pick(array)`, and `word()`, a made-up name of 2–4 syllables. */
export function randomWords(seed0) {
  let seed = seed0 >>> 0;
  const rnd = () => {
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    return seed / 4294967296;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const SYL = ["ka", "lo", "mi", "ru", "sen", "tor", "vel", "an", "dra", "quil", "ost", "fen", "gar", "hul", "ir", "zeb"];
  const word = () => { let w = ""; const n = 2 + Math.floor(rnd() * 3); for (let i = 0; i < n; i++) w += pick(SYL); return w; };
  return { rnd, pick, word };
}

export function generator(seed0 = 0x9e3779b9) {
  const { rnd, pick, word } = randomWords(seed0);
  const vocab = Array.from({ length: 40000 }, word);
  const FILLER = "the a of and to in is was he she it that for on with as his her at by from they we said".split(" ");

  /** A book of `n` entries in SillyTavern's world-info JSON; `regexShare` of the keys are regexes of `shape`. */
  function book(n, { regexShare = 0.05, shape = "alt" } = {}) {
    const entries = {};
    for (let uid = 0; uid < n; uid++) {
      const key = [];
      for (let k = 0; k < 3; k++) {
        const w = pick(vocab);
        if (rnd() < regexShare) {
          if (shape === "alt") key.push(`/\\b(?:${w}|${pick(vocab)})(?:s|es)?\\b/i`);
          else key.push(rnd() < 0.5 ? `/\\b${w}(s|es)?\\b/i` : `/${w}-?\\d+/`);
        } else key.push(rnd() < 0.1 ? `${w} ${pick(vocab)}` : w);
      }
      const content = Array.from({ length: 14 }, () => (rnd() < 0.15 ? pick(vocab) : pick(FILLER))).join(" ");
      entries[uid] = { uid, key, keysecondary: [], content, order: Math.floor(rnd() * 200), position: 0 };
    }
    return { entries };
  }

  const sentence = (len) => {
    let s = "";
    while (s.length < len) {
      const r = rnd();
      // A name sometimes with an ending the "alt" regex keys accept.
      s += (r < 0.04 ? pick(vocab) + (r < 0.01 ? "s" : "") : pick(FILLER)) + " ";
    }
    return s.trim();
  };
  /** `n` messages of about `len` characters, oldest first. */
  const chat = (n, len) => Array.from({ length: n }, (_, i) => ({ name: i % 2 ? "Aldric" : "Wren", isUser: i % 2 === 0, mes: sentence(len) }));
  return { book, chat, rnd };
}

// Card import benchmark: our wasm importCard against the JS path SillyTavern itself uses
// (npm png-chunks-extract + png-chunk-text, base64 decode, JSON.parse) on the same bytes.
//
// Inputs are generated in memory:
//   card_png_4mb       a ~4 MB PNG: a 1155x1155 noise avatar (incompressible IDAT) carrying a normal card
//   card_png_lore5000  a PNG carrying the 5,000-entry lorebook card from the fixtures (chara + ccv3)
//   card_json_lore5000 the same card as V3 JSON (ours: importCard; peer: TextDecoder + JSON.parse)
// Both sides end with a JS object of the card. Ours also normalises it to V3 and checks every chunk.
// Set NEXTCHAT_PKG=/path/to/pkg to benchmark another build of the package.
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { createRequire } from "node:module";
import { compare } from "./harness.mjs";

const require = createRequire(import.meta.url);
const extract = require("png-chunks-extract");
const PNGtext = require("png-chunk-text");

async function load() {
  const dir = process.env.NEXTCHAT_PKG
    ? new URL(`file://${process.env.NEXTCHAT_PKG.replace(/\/?$/, "/")}`)
    : new URL("../pkg/", import.meta.url);
  const m = await import(new URL("nextchat_tavern.js", dir));
  m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });
  return m;
}
const m = await load();

// --- a PNG writer for the avatar (CRC-32 table, zlib from Node) ---
const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function noisePng(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  let s = 2463534242;
  for (let i = 0; i < raw.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; // xorshift32: incompressible noise
    raw[i] = i % (w * 3 + 1) === 0 ? 0 : (s >>> 24) & 0xff;
  }
  const idat = deflateSync(raw, { level: 1 });
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr)];
  for (let o = 0; o < idat.length; o += 65536) parts.push(chunk("IDAT", idat.subarray(o, o + 65536)));
  parts.push(chunk("IEND", Buffer.alloc(0)));
  return new Uint8Array(Buffer.concat(parts));
}

// --- SillyTavern's server-side read path (src/character-card-parser.js, re-written from its description) ---
function peerReadPng(bytes) {
  const chunks = extract(bytes);
  const texts = chunks.filter((c) => c.name === "tEXt").map((c) => PNGtext.decode(c.data));
  const ccv3 = texts.find((t) => t.keyword.toLowerCase() === "ccv3");
  const chara = texts.find((t) => t.keyword.toLowerCase() === "chara");
  const t = ccv3 ?? chara;
  return JSON.parse(Buffer.from(t.text, "base64").toString("utf8"));
}

const fixtures = new URL("../../shared/fixtures/cards/", import.meta.url);
const local = new URL("../tests/fixtures/cards/", import.meta.url);
const read = (name) => {
  try { return readFileSync(new URL(name, fixtures)); } catch { return readFileSync(new URL(name, local)); }
};

// 1. ~4 MB card PNG.
const small = m.importCard(read("v2_basic.png")).card;
const avatar = noisePng(1155, 1155);
const png4 = m.exportCard(small, { format: "png", avatar, touchModificationDate: false });
// 2. 5,000-entry lorebook card, as PNG and JSON.
let lore;
try {
  lore = m.importCard(read("v2_lorebook_5000.json")).card;
} catch {
  // Fresh clone without ../shared: synthesise an equivalent card.
  lore = structuredClone(small);
  lore.data.character_book = { extensions: {}, entries: Array.from({ length: 5000 }, (_, i) => ({
    keys: [`key${i}`, `alias${i}`], content: `Entry ${i}: ${"lore text ".repeat(30)}`, extensions: {}, enabled: true,
    insertion_order: i, comment: `c${i}`, selective: false, secondary_keys: [], constant: false, position: "before_char", use_regex: false })) };
}
const tinyAvatar = noisePng(64, 64);
const pngLore = m.exportCard(lore, { format: "png", avatar: tinyAvatar, touchModificationDate: false });
const jsonLore = m.exportCard(lore, { format: "json", touchModificationDate: false });

// Sanity: both sides read the same card.
for (const [name, bytes] of [["card_png_4mb", png4], ["card_png_lore5000", pngLore]]) {
  const a = m.importCard(bytes).card.data, b = peerReadPng(bytes).data;
  if (a.name !== b.name || (a.character_book?.entries.length ?? 0) !== (b.character_book?.entries.length ?? 0)) {
    throw new Error(`${name}: ours and peer disagree`);
  }
}
console.log(`# inputs: card_png_4mb ${(png4.length / 1e6).toFixed(2)} MB, card_png_lore5000 ${(pngLore.length / 1e6).toFixed(2)} MB, card_json_lore5000 ${(jsonLore.length / 1e6).toFixed(2)} MB`);

let sink = 0;
compare("card_png_4mb", () => { sink += m.importCard(png4).card.data.name.length; },
  () => { sink += peerReadPng(png4).data.name.length; }, { warmup: 3, runs: 15 });
compare("card_png_lore5000", () => { sink += m.importCard(pngLore).card.data.character_book.entries.length; },
  () => { sink += peerReadPng(pngLore).data.character_book.entries.length; }, { warmup: 3, runs: 15 });
const td = new TextDecoder();
compare("card_json_lore5000", () => { sink += m.importCard(jsonLore).card.data.character_book.entries.length; },
  () => { sink += JSON.parse(td.decode(jsonLore)).data.character_book.entries.length; }, { warmup: 3, runs: 15 });
if (sink === 0) throw new Error("unreachable");

// The card API through the built package: exact big integers in unknown fields, strict
// input checks (typed card fields, unknown option keys), cards with missing asset files,
// and the smaller PNG without the lorebook in the V2 copy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const extract = require("png-chunks-extract");
const text = require("png-chunk-text");
const dir = new URL("../../pkg/", import.meta.url);
const m = await import(new URL("nextchat_tavern.js", dir));
m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });
const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/cards/${name}`, import.meta.url)));
const utf8 = (s) => new TextEncoder().encode(s);

function throwsCode(fn, code, pattern) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, "expected a throw");
  assert.ok(m.isTavernError(err), `not a TavernError: ${err}`);
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

// Written by hand: JSON.stringify cannot produce these numbers from JS.
const BIG_CARD = `{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Big","first_mes":"hi",
  "extensions":{"min":-9223372036854775808,"max":18446744073709551615,"id":9007199254740993,"safe":9007199254740991,
  "small":42,"float":1.5,"list":[1,{"deep":-9007199254740993}]},"x_top":12345678901234567890}}`;

test("integers beyond 2^53 in unknown fields survive import → JS → export exactly", () => {
  const { card } = m.importCard(utf8(BIG_CARD));
  const ext = card.data.extensions;
  assert.equal(ext.min, -9223372036854775808n);
  assert.equal(ext.max, 18446744073709551615n);
  assert.equal(ext.id, 9007199254740993n);
  assert.equal(ext.list[1].deep, -9007199254740993n);
  assert.equal(card.data.x_top, 12345678901234567890n);
  // Numbers a JS number holds stay plain numbers (the object stays JSON-friendly).
  assert.equal(ext.safe, 9007199254740991);
  assert.equal(ext.small, 42);
  assert.equal(ext.float, 1.5);
  assert.equal(typeof card.data.name, "string");
  for (const format of ["json", "png", "charx"]) {
    const out = m.exportCard(card, { format, touchModificationDate: false });
    if (format === "json") {
      const t = new TextDecoder().decode(out);
      for (const n of ["-9223372036854775808", "18446744073709551615", "9007199254740993", "-9007199254740993", "12345678901234567890"]) {
        assert.ok(t.includes(n), `${n} missing from the exported JSON`);
      }
    }
    const back = m.importCard(out).card;
    assert.deepEqual(back.data.extensions, ext, format);
    assert.equal(back.data.x_top, 12345678901234567890n, format);
  }
  // A BigInt a program puts in is taken too, within 64 bits.
  const made = { spec: "chara_card_v3", data: { name: "M", extensions: { n: 2n ** 60n } } };
  assert.equal(m.importCard(m.exportCard(made, { format: "json" })).card.data.extensions.n, 2n ** 60n);
  throwsCode(() => m.exportCard({ spec: "chara_card_v3", data: { name: "M", extensions: { n: 2n ** 70n } } }, { format: "json" }), "invalid_argument", /64-bit/);
});

test("big integers survive the library: import → store → read back → export", async () => {
  const { card } = m.importCard(utf8(BIG_CARD));
  const s = await m.TavernStore.open(null);
  const created = await s.createCharacter({ card });
  assert.equal(created.card.data.extensions.min, -9223372036854775808n);
  const [imported] = await s.importCards([{ card }], {});
  const back = await s.getCharacter(created.id);
  assert.deepEqual(back.card.data.extensions, card.data.extensions);
  assert.equal(back.card.data.x_top, 12345678901234567890n);
  const listed = (await s.listCharacters({})).items.find((c) => c.id === created.id);
  assert.equal(listed.card.data.extensions.id, 9007199254740993n);
  const t = new TextDecoder().decode(m.exportCard(back.card, { format: "json" }));
  assert.ok(t.includes("-9223372036854775808") && t.includes("12345678901234567890"), t);
  assert.equal(imported.card.data.extensions.max, 18446744073709551615n);
});

test("importLorebook and exportLorebook keep big integers too", () => {
  const book = `{"entries":{"0":{"uid":0,"key":["a"],"content":"x","extra_id":-9223372036854775807}}}`;
  const { lorebook } = m.importLorebook(book);
  const entry = lorebook.entries[0];
  const found = JSON.stringify(entry, (k, v) => (typeof v === "bigint" ? `${v}n` : v));
  assert.ok(found.includes("-9223372036854775807n"), found);
  const out = new TextDecoder().decode(m.exportLorebook(lorebook, { format: "v3" }));
  assert.ok(out.includes("-9223372036854775807"), out);
});

test("exportCard rejects card data of the wrong type", () => {
  throwsCode(() => m.exportCard({ spec: "chara_card_v3", spec_version: "3.0", data: "nope" }, { format: "png" }), "invalid_argument", /card\.data must be an object/);
  throwsCode(() => m.exportCard({ spec: "chara_card_v2", data: { name: "A", tags: "a, b" } }, { format: "json" }), "invalid_argument", /card\.data\.tags/);
  throwsCode(() => m.exportCard({ spec: "chara_card_v3", data: { name: 5 } }, { format: "json" }), "invalid_argument", /card\.data\.name/);
  throwsCode(() => m.exportCard({ spec: "chara_card_v3", data: { name: "A", character_book: { entries: [{ keys: "k", content: "c" }] } } }, { format: "json" }), "invalid_argument", /entries\[0\]\.keys/);
  throwsCode(() => m.exportCard([], { format: "json" }), "invalid_argument", /card must be an object/);
  // Unknown fields of the card are a feature: kept.
  const card = { spec: "chara_card_v3", spec_version: "3.0", x_app: { a: 1 }, data: { name: "Ok", x_field: [1, "two"], extensions: { mine: true } } };
  const back = m.importCard(m.exportCard(card, { format: "json" })).card;
  assert.deepEqual(back.x_app, { a: 1 });
  assert.deepEqual(back.data.x_field, [1, "two"]);
});

test("unknown or misspelled option keys are invalid_argument naming the key", () => {
  const png = fixture("v2_basic.png");
  const { card } = m.importCard(png);
  throwsCode(() => m.exportCard(card, { format: "png", v2lorebook: false }), "invalid_argument", /options\.v2lorebook/);
  throwsCode(() => m.exportCard(card, { fromat: "png" }), "invalid_argument", /options\.fromat/);
  throwsCode(() => m.exportCard(card), "invalid_argument", /options is required/);
  throwsCode(() => m.exportCard(card, { format: "png", touchModificationDate: "no" }), "invalid_argument", /touchModificationDate must be a boolean/);
  throwsCode(() => m.exportCard(card, { format: "png", assets: [{ path: "a", bytes: new Uint8Array(1), mime: "x" }] }), "invalid_argument", /options\.assets\[0\]\.mime/);
  throwsCode(() => m.importCard(png, { filename: "x.png" }), "invalid_argument", /options\.filename/);
  throwsCode(() => m.importCard(png, { fileName: 7 }), "invalid_argument", /fileName must be a string/);
  throwsCode(() => m.importCard(png, { limits: { maxJsonByte: 10 } }), "invalid_argument", /options\.limits\.maxJsonByte/);
  throwsCode(() => m.importLorebook("{}", { limit: {} }), "invalid_argument", /options\.limit/);
  throwsCode(() => m.exportLorebook({ entries: [] }, { format: "v3", pretty: true }), "invalid_argument", /options\.pretty/);
  return m.importCardAsync(png, { onProgres: () => {} }).then(
    () => assert.fail("expected a rejection"),
    (e) => { assert.equal(e.code, "invalid_argument"); assert.match(e.message, /options\.onProgres/); },
  );
});

test("a card that references a missing asset file still exports, with a warning", () => {
  const json = `{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Dangle","extensions":{},
    "assets":[{"type":"emotion","uri":"__asset:1","name":"joy","ext":"png"},{"type":"emotion","uri":"embeded://assets/x.png","name":"sad","ext":"png"}]}}`;
  const r = m.importCard(utf8(json));
  for (const format of ["png", "json", "json_v2", "charx"]) {
    const warnings = [];
    const out = m.exportCard(r.card, { format, assets: r.assets, onWarning: (w) => warnings.push(w) });
    assert.equal(m.importCard(out).card.data.name, "Dangle");
    if (format === "png" || format === "charx") {
      assert.equal(warnings.filter((w) => w.code === "asset_missing").length, 2, JSON.stringify(warnings));
      assert.doesNotMatch(warnings[0].message, /\(Q\d/);
    }
  }
});

test("v2Lorebook: false writes a smaller PNG that SillyTavern-style readers still read", () => {
  const entries = Array.from({ length: 300 }, (_, i) => ({ keys: [`k${i}`], content: "lore ".repeat(50) + i, enabled: true, insertion_order: i, extensions: {} }));
  const card = { spec: "chara_card_v3", spec_version: "3.0", data: { name: "Booky", first_mes: "hi", extensions: {}, character_book: { extensions: {}, entries } } };
  const full = m.exportCard(card, { format: "png" });
  const slim = m.exportCard(card, { format: "png", v2Lorebook: false });
  assert.ok(slim.length < full.length * 0.6, `slim ${slim.length} vs full ${full.length}`);
  const chunks = (png) => Object.fromEntries(extract(png).filter((c) => c.name === "tEXt").map((c) => text.decode(c.data)).map((t) => [t.keyword, JSON.parse(Buffer.from(t.text, "base64").toString("utf8"))]));
  const f = chunks(full);
  assert.equal(f.chara.data.character_book.entries.length, 300, "the default V2 copy keeps the book");
  const s = chunks(slim);
  assert.equal(s.chara.spec, "chara_card_v2");
  assert.equal(s.chara.name, "Booky");
  assert.equal(s.chara.data.first_mes, "hi");
  assert.equal(s.chara.data.character_book, undefined);
  assert.equal(s.ccv3.data.character_book.entries.length, 300);
  assert.equal(m.importCard(slim).card.data.character_book.entries.length, 300);
});

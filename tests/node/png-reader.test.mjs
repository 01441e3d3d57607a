// Our exported PNG cards read back with a plain JS chunk reader (the npm packages SillyTavern
// uses: png-chunks-extract + png-chunk-text, then base64 and JSON.parse): both the V2 `chara`
// backfill and the V3 `ccv3` chunk, before IEND, with the same card.
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

test("chara and ccv3 chunks of an exported PNG parse with a plain JS reader", () => {
  const card = { spec: "chara_card_v3", spec_version: "3.0", data: {
    name: "Plain Reader ✓ 日本", description: "Read me, JS.", first_mes: "Hi", alternate_greetings: ["a", "b"],
    tags: ["x"], extensions: { custom: { deep: [1, 2.5, "three"] } },
  } };
  const png = m.exportCard(card, { format: "png" });
  const chunks = extract(png);
  assert.equal(chunks.at(-1).name, "IEND");
  const texts = chunks.filter((c) => c.name === "tEXt").map((c) => text.decode(c.data));
  const byKey = Object.fromEntries(texts.map((t) => [t.keyword, t.text]));
  assert.ok(byKey.chara && byKey.ccv3, `keywords: ${Object.keys(byKey)}`);
  const v2 = JSON.parse(Buffer.from(byKey.chara, "base64").toString("utf8"));
  const v3 = JSON.parse(Buffer.from(byKey.ccv3, "base64").toString("utf8"));
  assert.equal(v2.spec, "chara_card_v2");
  assert.equal(v3.spec, "chara_card_v3");
  for (const c of [v2, v3]) {
    assert.equal(c.data.name, card.data.name);
    assert.deepEqual(c.data.alternate_greetings, card.data.alternate_greetings);
    assert.deepEqual(c.data.extensions.custom, card.data.extensions.custom);
  }
});

test("floats survive import and export exactly", () => {
  const x = 0.30000000000000004; // needs all 17 significant digits
  const card = { spec: "chara_card_v3", spec_version: "3.0", data: { name: "Floaty", extensions: { talkativeness: x, weights: [1e-7, 123456.789012345678] } } };
  const back = m.importCard(m.exportCard(card, { format: "json" })).card;
  assert.equal(back.data.extensions.talkativeness, x);
  assert.deepEqual(back.data.extensions.weights, card.data.extensions.weights);
});

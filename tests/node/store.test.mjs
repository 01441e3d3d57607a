// TavernStore in Node (no IndexedDB, no createImageBitmap): the in-memory store imports
// backups streamed from a Blob, a web ReadableStream, bytes or a string; PNG thumbnails are
// made in Rust, other formats come back as the original with `original: true`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const dir = new URL("../../pkg/", import.meta.url);
const m = await import(new URL("nextchat_tavern.js", dir));
m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });
const png = readFileSync(new URL("../fixtures/cards/v2_basic.png", import.meta.url));

const card = (name) => ({ spec: "chara_card_v2", spec_version: "2.0", data: { name, description: `${name} — ✓`, tags: ["é"] } });
const caught = async (f) => {
  try {
    await f();
    return null;
  } catch (e) {
    return { code: e.code, message: e.message };
  }
};

async function populated() {
  const s = await m.TavernStore.open(null);
  for (let i = 0; i < 9; i++) {
    const c = await s.createCharacter({ card: card(`Zoë ${i} 🦊`), avatar: new Uint8Array(png), avatarMime: "image/png" });
    const chat = await s.createChat({ characterId: c.id });
    await s.appendMessage(chat.id, { name: "Zoë", mes: `héllo ${i}` });
  }
  return { s, text: await (await s.exportBackup()).text() };
}

/** A web ReadableStream of `bytes` in chunks of `n` (multi-byte characters split). */
const streamOf = (bytes, n) => {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, (at += n)));
    },
  });
};

test("importBackup streams from a Blob, a ReadableStream, bytes and a string, with progress", async () => {
  const { text } = await populated();
  const bytes = new TextEncoder().encode(text);
  const items = text.trim().split("\n").length - 2;
  for (const [what, src, checked] of [
    ["blob", new Blob([text]), true],
    ["stream", streamOf(bytes, 97), false],
    ["bytes", bytes, true],
    ["string", text, true],
  ]) {
    const b = await m.TavernStore.open(null);
    const seen = [];
    const report = await b.importBackup(src, { batchSize: 4, onProgress: (p) => seen.push(p) });
    assert.equal(report.written, items, what);
    assert.equal((await b.listCharacters()).total, 9, what);
    const imports = seen.filter((p) => p.phase === "import");
    assert.equal(imports.length, items, what);
    assert.equal(imports.at(-1).done, items, what);
    assert.equal(seen.some((p) => p.phase === "check"), checked, what);
    if (checked) assert.equal(imports[0].total, items, what);
    else assert.equal(imports[0].total, null, what);
    assert.equal(seen[0].totalBytes, what === "stream" ? null : bytes.length, what);
    assert.deepEqual((await (await b.exportBackup()).text()).split("\n").slice(1), text.split("\n").slice(1), what);
  }
});

test("importBackup: newer, malformed and truncated backups, checkFirst, abort", async () => {
  const { text } = await populated();
  const lines = text.split("\n");
  const newer = text.replace(/"schemaVersion":\d+/, '"schemaVersion":99');
  const b = await m.TavernStore.open(null);
  let e = await caught(() => b.importBackup(streamOf(new TextEncoder().encode(newer), 50)));
  assert.equal(e.code, "unsupported_format");
  assert.match(e.message, /newer.*nothing was written/);

  const broken = [...lines.slice(0, 9), "{not json", ...lines.slice(10)].join("\n");
  e = await caught(() => b.importBackup(new Blob([broken])));
  assert.equal(e.code, "bad_json");
  assert.match(e.message, /^backup line 10: .*nothing was written$/);
  assert.equal((await b.listCharacters()).total, 0, "checked first: nothing written");

  e = await caught(() => b.importBackup(streamOf(new TextEncoder().encode(broken), 64), { batchSize: 3 }));
  assert.equal(e.code, "bad_json");
  assert.match(e.message, /^backup line 10: .*the first 6 items \(up to line 7\) were imported and are kept/);
  assert.equal((await b.listCharacters()).total, 6, "streamed: the committed batches stay");

  e = await caught(() => m.TavernStore.open(null).then((d) => d.importBackup(lines.slice(0, -2).join("\n"))));
  assert.equal(e.code, "truncated");

  e = await caught(() => b.importBackup(streamOf(new TextEncoder().encode(text), 64), { checkFirst: true }));
  assert.equal(e.code, "invalid_argument");

  const ctl = new AbortController();
  const d = await m.TavernStore.open(null);
  e = await caught(() => d.importBackup(new Blob([text]), { batchSize: 2, onProgress: (p) => p.phase === "import" && p.done === 5 && ctl.abort(), signal: ctl.signal }));
  assert.equal(e.code, "aborted");
  assert.match(e.message, /the first 4 items/);
  e = await caught(() => d.importBackup(42));
  assert.equal(e.code, "invalid_argument");
});

test("thumbnails: PNG made in Rust and kept; JPEG comes back as the original in Node", async () => {
  const s = await m.TavernStore.open(null);
  const c = await s.createCharacter({ card: card("Thumb"), avatar: new Uint8Array(png), avatarMime: "image/png" });
  const t = await s.thumbnail(c.avatarAssetId, { maxSide: 32 });
  assert.equal(t.original, false);
  assert.equal(t.asset.role, "thumbnail");
  assert.equal(t.asset.thumbnailOf, c.avatarAssetId);
  assert.equal(t.asset.ownerId, c.id);
  assert.deepEqual([t.asset.width, t.asset.height], [32, 32]);
  assert.ok(t.asset.size < png.length / 4, `${t.asset.size} vs ${png.length}`);
  assert.deepEqual(await s.thumbnail(c.avatarAssetId, { maxSide: 32 }), t, "made once");
  const blob = await s.getAssetBlob(t.asset.id);
  assert.equal(blob.type, "image/png");
  const url = await s.thumbnailUrl(c.avatarAssetId, { maxSide: 32 });
  assert.match(url, /^blob:/);
  URL.revokeObjectURL(url);

  const jpeg = await s.createCharacter({ card: card("Jay"), avatar: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]), avatarMime: "image/jpeg" });
  const o = await s.thumbnail(jpeg.avatarAssetId);
  assert.equal(o.original, true);
  assert.equal(o.asset.id, jpeg.avatarAssetId);
  assert.equal(await s.thumbnail("missing"), null);
  assert.equal((await caught(() => s.thumbnail(c.avatarAssetId, { maxSide: 0 }))).code, "invalid_argument");
  assert.equal((await caught(() => s.thumbnail(c.avatarAssetId, { maxPixels: 100 }))).code, "too_large");
});

// The demo's one TavernStore (IndexedDB "nextchat-tavern-demo"; in memory where IndexedDB is
// unavailable), shared by every view, plus helpers for card files and the theme.

let storePromise = null;

/** Opens the store once per page. */
export function openStore(engine) {
  storePromise ??= engine.TavernStore.open("nextchat-tavern-demo").then((s) => {
    s.getSettings().then(applyTheme, () => {});
    s.subscribeSettings(applyTheme);
    return s;
  });
  return storePromise;
}

/** Applies the theme settings to the page (colour scheme, accent, font scale). */
export function applyTheme(settings) {
  const root = document.documentElement;
  const t = settings?.theme ?? {};
  if (t.mode === "light" || t.mode === "dark") root.dataset.theme = t.mode;
  else delete root.dataset.theme;
  if (/^#[0-9a-fA-F]{6}$/.test(t.accent ?? "")) root.style.setProperty("--accent", t.accent);
  else root.style.removeProperty("--accent");
  root.style.fontSize = t.fontScale && t.fontScale !== 1 ? `${t.fontScale * 100}%` : "";
}

const MAGIC = [
  [[0x89, 0x50, 0x4e, 0x47], "image/png"],
  [[0xff, 0xd8, 0xff], "image/jpeg"],
  [[0x47, 0x49, 0x46], "image/gif"],
];

/** The image MIME type of some bytes, by their magic number. */
export function imageMime(bytes, fallback = "image/png") {
  for (const [m, type] of MAGIC) if (m.every((b, i) => bytes[i] === b)) return type;
  if (bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return "image/webp";
  return fallback;
}

/**
 * A PNG without its card text chunks (`chara`, `ccv3`): the image only. A card PNG carries the
 * whole card (a big lorebook: megabytes) in them; the library keeps the card as the character,
 * so its avatar does not need a second copy. Anything that is not a well-formed PNG is returned
 * as it is.
 */
export function stripCardChunks(bytes) {
  if (imageMime(bytes, "") !== "image/png") return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keep = [bytes.subarray(0, 8)];
  let at = 8, dropped = false;
  while (at + 12 <= bytes.length) {
    const len = view.getUint32(at);
    const end = at + 12 + len;
    if (end > bytes.length) return bytes;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    let card = false;
    if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      const data = bytes.subarray(at + 8, at + 8 + Math.min(len, 80));
      const nul = data.indexOf(0);
      const keyword = String.fromCharCode(...data.subarray(0, nul < 0 ? data.length : nul)).toLowerCase();
      card = keyword === "chara" || keyword === "ccv3";
    }
    if (card) dropped = true;
    else keep.push(bytes.subarray(at, end));
    at = end;
    if (type === "IEND") break;
  }
  if (!dropped) return bytes;
  const out = new Uint8Array(keep.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of keep) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * Turns a card file (PNG, JSON, YAML, CharX, JPEG+CharX, BYAF) into what `importCards` takes:
 * `{ card, avatar?, avatarMime? }` (a PNG card's avatar without its card chunks). Decoding goes through the card codec (`importCardAsync`)
 * when the package has it; otherwise only JSON cards are accepted (as text).
 */
export async function cardFileToInput(engine, file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const decode = engine.importCardAsync ?? null;
  if (!decode) return new TextDecoder().decode(bytes);
  const imported = await decode(bytes, { fileName: file.name });
  let avatar = imported.format === "png" ? stripCardChunks(bytes) : null;
  if (!avatar) {
    const icon = (imported.card?.data?.assets ?? []).find((a) => a.type === "icon" && a.name === "main")
      ?? (imported.card?.data?.assets ?? []).find((a) => a.type === "icon");
    const path = icon?.uri?.replace(/^embedd?ed:\/\//i, "");
    avatar = imported.assets?.find((a) => a.path === path)?.bytes ?? null;
  }
  const input = { card: imported.card };
  if (avatar) Object.assign(input, { avatar, avatarMime: imageMime(avatar) });
  return input;
}

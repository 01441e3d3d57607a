import { h, mount } from "../dom.js";

// Card import/export: choose or drop a card file (PNG, JSON, YAML, CharX, JPEG+CharX, BYAF);
// the page shows the name, avatar, main fields, greeting and lorebook counts and every warning, and
// exports the card as PNG, JSON (V3) or CharX. Card text is untrusted: it only ever goes in through
// textContent (dom.js `h`), never as HTML.

let objectUrl = null;
function setObjectUrl(url) {
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = url;
  return url;
}

function download(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const isPng = (b) => b && PNG_MAGIC.every((x, i) => b[i] === x);

export const cards = {
  path: "/cards",
  title: "Cards",
  render({ engine }) {
    const status = h("p", { id: "cards-status", role: "status" }, "Choose or drop a character card.");
    const file = h("input", { id: "cards-file", type: "file", accept: ".png,.json,.yaml,.yml,.charx,.jpg,.jpeg,.byaf,.webp" });
    const drop = h("div", { id: "cards-drop", class: "card drop", tabindex: "0" }, "Drop a card file here", h("br"), file);
    const result = h("section", { id: "cards-result", "aria-live": "polite" });
    let current = null; // { imported, avatar: Uint8Array | null, fileName }

    async function load(f) {
      status.textContent = `Reading ${f.name}…`;
      mount(result);
      const bytes = new Uint8Array(await f.arrayBuffer());
      try {
        const imported = await engine.importCardAsync(bytes, {
          fileName: f.name,
          onProgress: (p) => { status.textContent = `Reading ${f.name}… ${Math.round(p.fraction * 100)}%`; },
        });
        // The avatar: the PNG itself, else the main icon file from a CharX/BYAF.
        let avatar = imported.format === "png" ? bytes : null;
        if (!avatar) {
          const icon = (imported.card.data.assets ?? []).find((a) => a.type === "icon" && a.name === "main");
          const path = icon?.uri?.replace(/^embedd?ed:\/\//i, "");
          avatar = imported.assets.find((a) => a.path === path)?.bytes ?? null;
        }
        current = { imported, avatar, fileName: f.name };
        status.textContent = `Imported ${f.name}.`;
        show();
      } catch (err) {
        current = null;
        status.textContent = "";
        mount(result, h("p", { class: "error", role: "alert", id: "cards-error" },
          `Could not import ${f.name}: ${err.code ?? "error"}: ${err.message}`));
      }
    }

    function field(label, value) {
      return [h("dt", {}, label), h("dd", { class: "pre" }, value || "—")];
    }

    function show() {
      const { imported, avatar } = current;
      const d = imported.card.data;
      const img = avatar
        ? h("img", { class: "avatar big", alt: "", src: setObjectUrl(URL.createObjectURL(new Blob([avatar]))) })
        : h("div", { class: "avatar big", "aria-hidden": "true" }, (d.name[0] ?? "?").toUpperCase());
      const lore = d.character_book?.entries?.length ?? 0;
      const greetings = 1 + (d.alternate_greetings?.length ?? 0);
      const warnings = imported.warnings.length
        ? h("ul", { id: "cards-warnings", class: "warning" }, imported.warnings.map((w) => h("li", {}, `${w.code}: ${w.message}`)))
        : h("p", { id: "cards-warnings" }, "No warnings.");
      const exportButtons = ["png", "json", "charx"].map((format) =>
        h("button", { type: "button", id: `cards-export-${format}`, onclick: () => exportAs(format) }, `Export ${format.toUpperCase()}`));
      mount(result,
        h("div", { class: "card" },
          img,
          h("h2", { id: "cards-name" }, d.name || "(no name)"),
          h("p", { id: "cards-meta" },
            `${imported.format} · ${imported.sourceSpec} · `,
            h("span", { id: "cards-greetings" }, `${greetings} greeting${greetings === 1 ? "" : "s"}`), " · ",
            h("span", { id: "cards-lore" }, `${lore} lorebook entr${lore === 1 ? "y" : "ies"}`), " · ",
            `${imported.assets.length} asset file${imported.assets.length === 1 ? "" : "s"}`),
          h("p", { class: "tags" }, (d.tags ?? []).join(", ")),
          h("dl", { id: "cards-fields" },
            field("Description", d.description),
            field("Personality", d.personality),
            field("Scenario", d.scenario),
            field("First message", d.first_mes),
            field("Creator", d.creator),
            field("Creator notes", d.creator_notes)),
          h("h3", {}, "Warnings"),
          warnings,
          h("p", {}, exportButtons),
        ));
    }

    function exportAs(format) {
      if (!current) return;
      const { imported, avatar } = current;
      const base = (imported.card.data.name || "card").replace(/[^\p{L}\p{N} _-]+/gu, "_");
      try {
        const bytes = engine.exportCard(imported.card, {
          format,
          avatar: format !== "json" && isPng(avatar) ? avatar : undefined,
          assets: imported.assets,
        });
        const ext = format === "json" ? "json" : format;
        const type = { png: "image/png", json: "application/json", charx: "application/zip" }[format];
        download(bytes, `${base}.${ext}`, type);
        status.textContent = `Exported ${base}.${ext} (${bytes.length} bytes).`;
      } catch (err) {
        status.textContent = `Export failed: ${err.code ?? "error"}: ${err.message}`;
      }
    }

    file.addEventListener("change", () => file.files[0] && load(file.files[0]));
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const f = e.dataTransfer?.files?.[0];
      if (f) load(f);
    });

    return h("div", { class: "view-cards" }, h("h1", {}, "Character cards"), drop, status, result);
  },
};

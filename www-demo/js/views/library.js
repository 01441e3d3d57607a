import { h, mount } from "../dom.js";
import { openStore, cardFileToInput } from "../tavern.js";

// The character library: import card files (PNG, JSON, YAML, CharX, … through the
// card codec) or create a character by hand; a grid with avatars, search, tag filter and sort;
// delete with undo. Everything lives in IndexedDB, so a reload keeps it. Card text is untrusted:
// it only ever reaches the page through textContent (dom.js `h`).

// Object URLs of the avatars on screen with their images; released when the grid is redrawn,
// each once its image has finished loading (revoking a URL an image still loads aborts it).
let shownUrls = [];
function release(shown) {
  for (const [url, img] of shown) {
    if (img.complete) URL.revokeObjectURL(url);
    else for (const ev of ["load", "error"]) img.addEventListener(ev, () => URL.revokeObjectURL(url), { once: true });
  }
}

const PAGE = 60;

export const library = {
  path: "/library",
  title: "Library",
  render({ engine }) {
    const status = h("p", { id: "library-status", role: "status" }, "Opening the library…");
    const grid = h("ul", { id: "library-grid", class: "grid", "aria-label": "Characters" });
    const search = h("input", { id: "library-search", type: "search", placeholder: "Search by name", "aria-label": "Search characters" });
    const tagSel = h("select", { id: "library-tag", "aria-label": "Filter by tag" }, h("option", { value: "" }, "All tags"));
    const sortSel = h("select", { id: "library-sort", "aria-label": "Sort" },
      h("option", { value: "name" }, "Name"), h("option", { value: "recentlyUsed" }, "Recently used"), h("option", { value: "created" }, "Newest"));
    const file = h("input", {
      id: "library-import", type: "file", multiple: true, class: "visually-hidden",
      accept: ".png,.json,.yaml,.yml,.charx,.jpg,.jpeg,.byaf,application/json,image/png",
    });
    const cancel = h("button", { type: "button", id: "library-cancel", hidden: true }, "Cancel import");
    const undoBar = h("div", { id: "library-undo", class: "undo-bar", role: "status", hidden: true });
    const errorBox = h("p", { id: "library-error", class: "error", role: "alert", hidden: true });
    const more = h("button", { type: "button", id: "library-more", hidden: true }, "Show more");
    let store = null;
    let shown = PAGE;
    let generation = 0; // drops stale refreshes (typing fast in the search box)

    const newName = h("input", { id: "library-new-name", name: "name", required: true, placeholder: "Name", "aria-label": "Name" });
    const newDesc = h("input", { id: "library-new-description", name: "description", placeholder: "Description", "aria-label": "Description" });
    const newTags = h("input", { id: "library-new-tags", name: "tags", placeholder: "Tags, comma-separated", "aria-label": "Tags" });
    const createForm = h("form", { id: "library-create", class: "inline-form", "aria-label": "New character" },
      newName, newDesc, newTags, h("button", { type: "submit", class: "primary" }, "Create"));

    function showError(text) {
      errorBox.textContent = text;
      errorBox.hidden = !text;
    }

    // The grid shows thumbnails (made once, kept in IndexedDB), not the full-size avatars:
    // a card PNG is often megabytes and carries the whole card in a text chunk. The grid is
    // drawn with letters first; the thumbnails are fetched all at once and swapped in as they
    // come (the first time, each one is made from its avatar).
    const letter = (c) => h("div", { class: "avatar placeholder", "aria-hidden": "true" }, ([...c.name][0] ?? "?").toUpperCase());
    async function avatarOf(c) {
      return store.thumbnailUrl(c.avatarAssetId, { maxSide: 256 }).catch(async () => {
        const blob = await store.getAssetBlob(c.avatarAssetId).catch(() => null);
        return blob && URL.createObjectURL(blob);
      });
    }

    // Tags of the whole library for the filter: the list without cards (names and tags only).
    async function refreshTags() {
      const tags = new Map(); // lowercase → first spelling
      const all = await store.listCharacters({ limit: 1000, withCard: false });
      for (const c of all.items) for (const t of c.tags) if (!tags.has(t.toLowerCase())) tags.set(t.toLowerCase(), t);
      const current = tagSel.value;
      const sorted = [...tags.values()].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
      mount(tagSel, h("option", { value: "" }, "All tags"), sorted.map((t) => h("option", { value: t, selected: t === current }, t)));
      if (current && !sorted.includes(current)) tagSel.value = "";
    }

    // Redraws the grid (and, with `tags`, the tag filter: after the library changed).
    async function refresh({ tags = true } = {}) {
      if (!store) return;
      const mine = ++generation;
      const tag = tagSel.value;
      const [page] = await Promise.all([
        store.listCharacters({ query: search.value.trim() || undefined, tag: tag || undefined, sort: sortSel.value, limit: shown }),
        tags ? refreshTags() : null,
      ]);
      if (mine !== generation) return; // a newer refresh draws the grid
      if (tagSel.value !== tag) return refresh({ tags: false }); // the chosen tag is gone
      const items = [];
      const avatars = [];
      for (const c of page.items) {
        const tagList = c.tags.length
          ? h("ul", { class: "tags", "aria-label": "Tags" }, c.tags.map((t) => h("li", {}, t)))
          : h("p", { class: "tags muted" }, "no tags");
        const desc = c.card?.data?.description ?? "";
        const avatar = letter(c);
        if (c.avatarAssetId) avatars.push([c, avatar]);
        items.push(h("li", { class: "card character", dataset: { id: c.id } },
          avatar,
          h("h3", { class: "name" }, c.name),
          h("p", { class: "desc" }, desc.length > 140 ? `${desc.slice(0, 140)}…` : desc),
          tagList,
          h("button", { type: "button", class: "delete", "aria-label": `Delete ${c.name}`, onclick: () => remove(c) }, "Delete"),
        ));
      }
      release(shownUrls);
      const onScreen = shownUrls = [];
      for (const [c, placeholder] of avatars) {
        avatarOf(c).then((url) => {
          if (!url) return;
          if (mine !== generation) return URL.revokeObjectURL(url); // the grid was redrawn meanwhile
          const img = h("img", { class: "avatar", src: url, alt: "" });
          onScreen.push([url, img]);
          placeholder.replaceWith(img);
        });
      }
      mount(grid, items.length ? items : h("li", { class: "empty" },
        search.value || tagSel.value ? "No character matches." : "No characters yet: import a card or create one."));
      more.hidden = page.total <= page.items.length;
      const info = store.info();
      const filtered = search.value.trim() || tagSel.value;
      status.textContent = `${page.total} character${page.total === 1 ? "" : "s"}${filtered ? " match" + (page.total === 1 ? "es" : "") : ""}` +
        (info.persistent ? " · saved in this browser" : ` · not saved: ${info.fallbackReason ?? "memory store"}`);
    }

    async function remove(c) {
      showError("");
      try {
        await store.deleteCharacter(c.id);
      } catch (e) {
        showError(`Could not delete ${c.name}: ${e.code ?? "error"}: ${e.message}`);
        return;
      }
      mount(undoBar, h("span", {}, `Deleted ${c.name}.`),
        h("button", { type: "button", id: "library-undo-button", onclick: async () => {
          undoBar.hidden = true;
          await store.restoreCharacter(c.id).catch((e) => showError(`Undo failed: ${e.message}`));
          await refresh();
        } }, "Undo"));
      undoBar.hidden = false;
      await refresh();
    }

    file.addEventListener("change", async () => {
      const files = [...file.files];
      file.value = "";
      if (!files.length || !store) return;
      showError("");
      const ac = new AbortController();
      cancel.hidden = false;
      cancel.onclick = () => ac.abort();
      try {
        const inputs = [];
        const failed = [];
        for (const [i, f] of files.entries()) {
          status.textContent = `Reading ${f.name} (${i + 1} of ${files.length})…`;
          try {
            inputs.push(await cardFileToInput(engine, f));
          } catch (e) {
            failed.push(`${f.name}: ${e.code ?? "error"}: ${e.message}`);
          }
          if (ac.signal.aborted) throw Object.assign(new Error("the import was cancelled"), { code: "aborted" });
        }
        const out = inputs.length
          ? await store.importCards(inputs, { withCard: false, signal: ac.signal, onProgress: (p) => { status.textContent = `Saving ${p.done} of ${p.total}…`; } })
          : [];
        if (failed.length) showError(`Not imported: ${failed.join("; ")}`);
        await refresh();
        if (out.length) status.textContent = `Imported ${out.map((c) => c.name).join(", ")}. ${status.textContent}`;
      } catch (e) {
        showError(e.code === "aborted" ? "Import cancelled: nothing was saved." : `Import failed: ${e.code ?? "error"}: ${e.message}`);
        await refresh();
      } finally {
        cancel.hidden = true;
      }
    });

    createForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError("");
      const tags = newTags.value.split(",").map((t) => t.trim()).filter(Boolean);
      try {
        const c = await store.createCharacter({
          card: { spec: "chara_card_v2", spec_version: "2.0", data: { name: newName.value, description: newDesc.value, tags } },
        });
        createForm.reset();
        await refresh();
        status.textContent = `Created ${c.name}. ${status.textContent}`;
      } catch (e) {
        showError(`Could not create the character: ${e.message}`);
      }
    });

    let timer = null;
    search.addEventListener("input", () => { clearTimeout(timer); shown = PAGE; timer = setTimeout(() => refresh({ tags: false }), 120); });
    for (const el of [tagSel, sortSel]) el.addEventListener("change", () => { shown = PAGE; refresh({ tags: false }); });
    more.addEventListener("click", () => { shown += PAGE; refresh({ tags: false }); });

    openStore(engine).then(async (s) => {
      store = s;
      // Other tabs' changes (and imports of backups) show up without a reload.
      s.subscribe((change) => {
        if (!grid.isConnected) return;
        if (change.remote || change.op === "import") refresh();
      });
      await refresh();
    }, (e) => { status.textContent = `The library could not be opened: ${e.code ?? "error"}: ${e.message}`; });

    return h("section", { class: "stack view-library", "aria-labelledby": "library-title" },
      h("h1", { id: "library-title" }, "Character library"),
      h("div", { class: "toolbar" },
        h("label", { class: "button primary", for: "library-import" }, "Import cards…"), file, cancel,
        search, tagSel, sortSel),
      createForm,
      status, errorBox, undoBar, grid, more);
  },
};

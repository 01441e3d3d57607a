import { h, mount } from "../dom.js";

// One store per page: IndexedDB "nextchat-tavern-demo" (memory fallback where IndexedDB is unavailable).
let storePromise = null;
function openStore(engine) {
  storePromise ??= engine.TavernStore.open("nextchat-tavern-demo");
  return storePromise;
}

const objectUrls = new Set();
function revokeAll() {
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls.clear();
}

/** The character library: import JSON cards, grid with avatars, search, tag filter, delete with undo; settings. */
export const library = {
  path: "/library",
  title: "Library",
  render({ engine }) {
    const status = h("p", { id: "library-status", role: "status" }, "Opening the library…");
    const grid = h("ul", { id: "library-grid", class: "grid" });
    const search = h("input", { id: "library-search", type: "search", placeholder: "Search by name", "aria-label": "Search characters" });
    const tagSel = h("select", { id: "library-tag", "aria-label": "Filter by tag" }, h("option", { value: "" }, "All tags"));
    const sortSel = h("select", { id: "library-sort", "aria-label": "Sort" },
      h("option", { value: "name" }, "Name"), h("option", { value: "recentlyUsed" }, "Recently used"), h("option", { value: "created" }, "Newest"));
    const file = h("input", { id: "library-import", type: "file", accept: ".json,application/json", multiple: true });
    const undoBar = h("div", { id: "library-undo", class: "card", hidden: true });
    const settingsErrors = h("ul", { id: "settings-errors", class: "error" });
    const settingsForm = h("form", { id: "settings-form", class: "card" });
    let store = null;

    async function refresh() {
      if (!store) return;
      const page = await store.listCharacters({ query: search.value || undefined, tag: tagSel.value || undefined, sort: sortSel.value, limit: 100 });
      revokeAll();
      const tags = new Set();
      const all = await store.listCharacters({ limit: 1000 });
      for (const c of all.items) for (const t of c.tags) tags.add(t);
      const current = tagSel.value;
      mount(tagSel, h("option", { value: "" }, "All tags"), [...tags].sort().map((t) => h("option", { value: t, selected: t === current }, t)));
      const items = [];
      for (const c of page.items) {
        let img = h("div", { class: "avatar", "aria-hidden": "true" }, (c.name[0] ?? "?").toUpperCase());
        if (c.avatarAssetId) {
          const blob = await store.getAssetBlob(c.avatarAssetId);
          if (blob) {
            const url = URL.createObjectURL(blob);
            objectUrls.add(url);
            img = h("img", { class: "avatar", src: url, alt: "" });
          }
        }
        items.push(h("li", { class: "card", dataset: { id: c.id } },
          img,
          h("h3", {}, c.name),
          h("p", { class: "tags" }, c.tags.join(", ")),
          h("button", { type: "button", class: "delete", onclick: () => remove(c) }, "Delete"),
        ));
      }
      mount(grid, items);
      const info = store.info();
      status.textContent = `${page.total} character${page.total === 1 ? "" : "s"}` +
        (info.persistent ? " (saved in this browser)" : ` (not saved: ${info.fallbackReason ?? "memory store"})`);
    }

    async function remove(c) {
      await store.deleteCharacter(c.id);
      mount(undoBar, h("span", {}, `Deleted ${c.name}. `),
        h("button", { type: "button", id: "library-undo-button", onclick: async () => {
          await store.restoreCharacter(c.id);
          undoBar.hidden = true;
          await refresh();
        } }, "Undo"));
      undoBar.hidden = false;
      await refresh();
    }

    file.addEventListener("change", async () => {
      const texts = await Promise.all([...file.files].map((f) => f.text()));
      try {
        await store.importCards(texts, { onProgress: (p) => { status.textContent = `Importing ${p.done} of ${p.total}…`; } });
      } catch (e) {
        status.textContent = `Import failed: ${e.message}`;
        return;
      }
      file.value = "";
      await refresh();
    });
    for (const el of [search, tagSel, sortSel]) el.addEventListener(el === search ? "input" : "change", () => refresh());

    async function renderSettings() {
      const s = await store.getSettings();
      const field = (label, id, value, type = "text") =>
        h("label", {}, label, h("input", { id, name: id, type, value: String(value ?? ""), step: type === "number" ? "any" : null }));
      mount(settingsForm,
        h("h2", {}, "Settings"),
        field("SillyTavern URL", "connection.url", s.connection.url),
        field("OpenAI-compatible base URL", "backend.baseUrl", s.backend.baseUrl),
        field("Temperature (0–2)", "generation.temperature", s.generation.temperature ?? "", "number"),
        field("Accent colour (#rrggbb)", "theme.accent", s.theme.accent),
        h("button", { type: "submit" }, "Save"),
        settingsErrors);
    }
    settingsForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const val = (id) => settingsForm.querySelector(`[name="${id}"]`).value;
      const temp = val("generation.temperature");
      const patch = {
        connection: { url: val("connection.url") },
        backend: { baseUrl: val("backend.baseUrl") },
        generation: { temperature: temp === "" ? null : Number(temp) },
        theme: { accent: val("theme.accent") },
      };
      const errors = await store.validateSettings(patch);
      mount(settingsErrors, errors.map((e) => h("li", {}, `${e.path}: ${e.message}`)));
      if (errors.length === 0) {
        await store.setSettings(patch);
        mount(settingsErrors, h("li", { class: "ok" }, "Saved."));
      }
    });

    openStore(engine).then(async (s) => {
      store = s;
      s.subscribe((change) => { if (change.remote) refresh(); });
      await refresh();
      await renderSettings();
    }, (e) => { status.textContent = `The library could not be opened: ${e.message}`; });

    return h("section", { class: "stack", "aria-labelledby": "library-title" },
      h("h1", { id: "library-title" }, "Character library"),
      h("div", { class: "toolbar" }, h("label", {}, "Import cards (JSON) ", file), search, tagSel, sortSel),
      status, undoBar, grid, settingsForm);
  },
};

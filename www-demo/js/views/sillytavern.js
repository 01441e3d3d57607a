import { h, mount } from "../dom.js";
import { openStore, imageMime } from "../tavern.js";
import { connectionUrl, sillyTavern } from "../connection.js";

// SillyTavern connection panel: connect to a server, list its characters with avatars (fetched
// with credentials and shown through blob URLs), import them into the local library. Errors
// are shown with their stable code (e.g. cors_blocked explains what to put in config.yaml).

let shownUrls = [];

export const sillytavernView = {
  path: "/sillytavern",
  title: "SillyTavern",
  render({ engine }) {
    const url = h("input", { id: "st-url", type: "url", required: true, "aria-label": "SillyTavern URL", placeholder: "http://127.0.0.1:8123" });
    const connect = h("button", { type: "submit", class: "primary", id: "st-connect" }, "Connect");
    const handle = h("input", { id: "st-handle", autocomplete: "username", placeholder: "User (handle)", "aria-label": "User handle" });
    const password = h("input", { id: "st-password", type: "password", autocomplete: "current-password", placeholder: "Password", "aria-label": "Password" });
    const account = h("details", { id: "st-account" },
      h("summary", {}, "Account (only if your SillyTavern has user accounts on)"),
      h("div", { class: "inline-form" }, handle, password));
    const status = h("p", { id: "st-status", role: "status" }, "Not connected.");
    const errorBox = h("p", { id: "st-error", class: "error", role: "alert", hidden: true });
    const grid = h("ul", { id: "st-grid", class: "grid", "aria-label": "SillyTavern characters" });
    let store = null;

    const showError = (e) => {
      errorBox.textContent = e ? `${e.code ?? "error"}: ${e.message ?? e}` : "";
      errorBox.hidden = !e;
    };

    async function importOne(c, button) {
      store ??= await openStore(engine);
      button.disabled = true;
      button.textContent = "Importing…";
      try {
        const st = sillyTavern(engine, url.value.trim());
        const png = await st.exportCharacter(c.avatar, "png");
        const imported = await engine.importCardAsync(png, { fileName: c.avatar });
        await store.importCards([{ card: imported.card, avatar: png, avatarMime: imageMime(png) }], {});
        button.textContent = "Imported ✓";
      } catch (e) {
        showError(e);
        button.disabled = false;
        button.textContent = "Import";
      }
    }

    async function load() {
      showError(null);
      store ??= await openStore(engine); // a click can come before the store is open
      const base = url.value.trim();
      status.textContent = `Connecting to ${base}…`;
      for (const u of shownUrls) URL.revokeObjectURL(u);
      shownUrls = [];
      mount(grid);
      try {
        const st = sillyTavern(engine, base);
        await st.connect();
        if (handle.value.trim()) await st.login(handle.value.trim(), password.value);
        await store.setSettings({ connection: { url: base } }).catch(() => {});
        const list = await st.characters({ maxAgeMs: 30000 });
        status.textContent = `Connected: ${list.length} character${list.length === 1 ? "" : "s"} on ${base}.`;
        mount(grid, list.map((c) => {
          const img = h("img", { class: "avatar", alt: "" });
          st.thumbnailUrl("avatar", c.avatar).then((u) => { shownUrls.push(u); img.src = u; }, () => {});
          const button = h("button", { type: "button", class: "st-import" }, "Import");
          button.addEventListener("click", () => importOne(c, button));
          return h("li", { class: "card character", dataset: { avatar: c.avatar } },
            img,
            h("h3", { class: "name" }, c.name ?? c.avatar),
            h("p", { class: "desc" }, String(c.data?.creator_notes || c.description || "").slice(0, 140)),
            button);
        }));
      } catch (e) {
        status.textContent = "Not connected.";
        showError(e);
      }
    }

    let userActed = false; // typed a URL or pressed Connect: the saved connection must not override it
    const form = h("form", { id: "st-form", class: "stack", "aria-label": "SillyTavern connection" },
      h("div", { class: "inline-form" }, url, connect), account);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); userActed = true; load(); });
    url.addEventListener("input", () => { userActed = true; });

    openStore(engine).then(async (s) => {
      store = s;
      // Read first, then decide: the user may type or connect while the settings load, and
      // what they typed wins (checking before the await would overwrite it). A focused field is
      // being typed into: text written into it then would end up in front of what they type.
      const fallback = await connectionUrl(store);
      if (userActed || url.value || document.activeElement === url) return;
      url.value = fallback;
      // Reconnect by itself only to a server the user connected to before.
      const saved = (await store.getSettings().catch(() => null))?.connection?.url;
      if (saved && !userActed) load();
    });

    return h("section", { class: "stack", "aria-labelledby": "st-title" },
      h("h1", { id: "st-title" }, "SillyTavern"),
      h("p", { class: "muted" }, "Your SillyTavern must allow this page's origin (config.yaml → cors.origin, credentials: true) and use the same host name as this page."),
      form, status, errorBox, grid);
  },
};

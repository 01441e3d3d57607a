// App shell: loads the engine, renders the nav, routes by location.hash to a view.
import { h, mount } from "./dom.js";
import { loadEngine } from "./engine.js";
import { store } from "./store.js";
import { views } from "./views/index.js";

const $ = (id) => document.getElementById(id);

function currentPath() {
  const p = location.hash.replace(/^#/, "");
  return p.startsWith("/") ? p : "/";
}

function renderNav() {
  const route = store.get().route;
  mount($("nav"), views.map((v) =>
    h("a", { href: `#${v.path}`, "aria-current": v.path === route ? "page" : null }, v.title)));
}

function renderView() {
  const { engine, engineError, route } = store.get();
  const view = views.find((v) => v.path === route) ?? views[0];
  document.title = `${view.title} · nextchat-tavern demo`;
  if (engineError) {
    mount($("view"), h("p", { class: "error", role: "alert" }, `The engine failed to load: ${engineError}`));
  } else if (!engine) {
    mount($("view"), h("p", {}, "Loading the engine…"));
  } else {
    mount($("view"), view.render({ engine, store }));
  }
  renderNav();
}

function setStatus(state, text) {
  const el = $("engine-status");
  el.dataset.state = state;
  el.textContent = text;
}

window.addEventListener("hashchange", () => store.set({ route: currentPath() }));
store.subscribe(renderView);
store.set({ route: currentPath() });

loadEngine().then(
  (engine) => {
    $("engine-version").textContent = engine.version();
    setStatus("ready", "engine ready");
    store.set({ engine });
  },
  (err) => {
    console.error(err);
    setStatus("error", "engine failed");
    store.set({ engineError: String(err?.message ?? err) });
  },
);

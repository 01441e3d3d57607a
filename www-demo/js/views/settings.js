import { h, mount } from "../dom.js";
import { openStore } from "../tavern.js";

// Settings: edits the engine's configuration. Every field is checked as you
// type (`validateSettings`) and every bad field shows its own message; Save applies a partial
// update (`setSettings`). API keys are stored apart and never shown back.

const F = (path, label, type, extra = {}) => ({ path, label, type, ...extra });
const SECTIONS = [
  ["SillyTavern connection", [
    F("connection.url", "Server URL", "url", { placeholder: "http://127.0.0.1:8000" }),
    F("connection.authMode", "Authentication", "select", { options: [["none", "None"], ["basic", "Basic auth"], ["account", "User account"]] }),
    F("connection.username", "User name", "text"),
  ]],
  ["Generation backend", [
    F("backend.kind", "Backend", "select", { options: [["openAi", "OpenAI-compatible"], ["sillyTavern", "SillyTavern server"], ["host", "Host page callback"]] }),
    F("backend.baseUrl", "Base URL", "url", { placeholder: "https://api.openai.com/v1" }),
    F("backend.model", "Model", "text"),
    F("backend.apiKeyName", "API key name", "text", { placeholder: "openai" }),
  ]],
  ["Generation defaults", [
    F("generation.temperature", "Temperature (0–2)", "number", { step: "0.05" }),
    F("generation.topP", "Top P (0–1)", "number", { step: "0.01" }),
    F("generation.maxTokens", "Max reply tokens", "number", { step: "1" }),
    F("generation.contextSize", "Context size (tokens)", "number", { step: "1" }),
    F("generation.stream", "Stream replies", "checkbox"),
  ]],
  ["Voice", [
    F("voice.enabled", "Read replies aloud", "checkbox"),
    F("voice.voice", "Voice name", "text", { placeholder: "browser default" }),
    F("voice.rate", "Rate (0.1–10)", "number", { step: "0.1" }),
    F("voice.pitch", "Pitch (0–2)", "number", { step: "0.1" }),
  ]],
  ["Theme", [
    F("theme.mode", "Colours", "select", { options: [["system", "Follow the system"], ["light", "Light"], ["dark", "Dark"]] }),
    F("theme.accent", "Accent colour (#rrggbb)", "text", { placeholder: "#8b3dff" }),
    F("theme.fontScale", "Font scale (0.5–3)", "number", { step: "0.05" }),
  ]],
];
const FIELDS = SECTIONS.flatMap(([, fs]) => fs);
const idOf = (path) => `set-${path.replace(".", "-")}`;
const get = (obj, path) => path.split(".").reduce((o, k) => o?.[k], obj);

export const settings = {
  path: "/settings",
  title: "Settings",
  render({ engine }) {
    const status = h("p", { id: "settings-status", role: "status" }, "Loading settings…");
    const summary = h("ul", { id: "settings-errors", class: "error", "aria-label": "Problems" });
    const form = h("form", { id: "settings-form", class: "card settings", novalidate: true });
    const keyName = h("input", { id: "settings-key-name", placeholder: "openai", "aria-label": "API key name" });
    const keyValue = h("input", { id: "settings-key-value", type: "password", autocomplete: "off", placeholder: "sk-…", "aria-label": "API key" });
    const keyList = h("p", { id: "settings-keys", class: "muted" });
    const keyForm = h("form", { id: "settings-key-form", class: "card inline-form", "aria-label": "API keys" },
      h("h2", {}, "API keys"), keyName, keyValue, h("button", { type: "submit" }, "Store key"), keyList);
    let store = null;
    const inputs = new Map();
    const messages = new Map();

    function control(f, value) {
      const id = idOf(f.path);
      const msg = h("span", { id: `${id}-msg`, class: "field-error", "aria-live": "polite" });
      messages.set(f.path, msg);
      let input;
      if (f.type === "select") {
        input = h("select", { id, name: f.path, "aria-describedby": `${id}-msg` },
          f.options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
      } else if (f.type === "checkbox") {
        input = h("input", { id, name: f.path, type: "checkbox", checked: value === true, "aria-describedby": `${id}-msg` });
      } else {
        input = h("input", {
          id, name: f.path, type: f.type === "number" ? "number" : "text", inputmode: f.type === "number" ? "decimal" : null,
          step: f.step ?? null, placeholder: f.placeholder ?? null, value: value ?? "", "aria-describedby": `${id}-msg`,
        });
      }
      inputs.set(f.path, input);
      return h("div", { class: `field field-${f.type}` }, h("label", { for: id }, f.label), input, msg);
    }

    /** The form as a settings patch: empty number fields remove the value (`null`). */
    function patchOf() {
      const patch = {};
      for (const f of FIELDS) {
        const input = inputs.get(f.path);
        let v;
        if (f.type === "checkbox") v = input.checked;
        else if (f.type === "number") v = input.value.trim() === "" ? null : Number(input.value);
        else v = input.value.trim();
        if (f.type === "number" && Number.isNaN(v)) v = input.value; // let validation name it
        const [section, key] = f.path.split(".");
        (patch[section] ??= {})[key] = v;
      }
      return patch;
    }

    function showErrors(errors) {
      for (const [path, msg] of messages) {
        const e = errors.filter((x) => x.path === path || x.path === path.split(".")[0]);
        msg.textContent = e.map((x) => x.message).join("; ");
        inputs.get(path).setAttribute("aria-invalid", e.length ? "true" : "false");
      }
      mount(summary, errors.map((e) => h("li", {}, `${e.path || "settings"}: ${e.message}`)));
    }

    async function validate() {
      const errors = await store.validateSettings(patchOf());
      showErrors(errors);
      return errors;
    }

    async function render() {
      const s = await store.getSettings();
      inputs.clear();
      messages.clear();
      mount(form,
        SECTIONS.map(([title, fields]) => h("fieldset", {}, h("legend", {}, title), fields.map((f) => control(f, get(s, f.path))))),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "settings-save" }, "Save"),
          h("button", { type: "button", id: "settings-reset", onclick: () => render().then(() => showErrors([])) }, "Revert")),
        summary);
      const keys = await store.apiKeyNames();
      const names = Object.keys(keys);
      keyList.textContent = names.length ? `Stored keys: ${names.join(", ")}` : "No API keys stored.";
      status.textContent = store.info().persistent ? "Settings are saved in this browser." : "Settings are kept in memory only (IndexedDB is unavailable).";
    }

    let timer = null;
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => store && validate(), 150); });
    form.addEventListener("change", () => store && validate());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!store) return;
      const errors = await validate();
      if (errors.length) {
        status.textContent = `Not saved: ${errors.length} field${errors.length === 1 ? "" : "s"} to fix.`;
        return;
      }
      try {
        await store.setSettings(patchOf());
        status.textContent = "Saved.";
      } catch (e) {
        status.textContent = `Not saved: ${e.code ?? "error"}: ${e.message}`;
      }
    });
    keyForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await store.setApiKey(keyName.value.trim(), keyValue.value || null);
        keyValue.value = "";
        await render();
        status.textContent = `Key ${keyName.value.trim()} stored (never shown again, left out of backups).`;
      } catch (e) {
        status.textContent = `Key not stored: ${e.message}`;
      }
    });

    openStore(engine).then(async (s) => {
      store = s;
      await render();
    }, (e) => { status.textContent = `Settings could not be opened: ${e.message}`; });

    return h("section", { class: "stack view-settings", "aria-labelledby": "settings-title" },
      h("h1", { id: "settings-title" }, "Settings"), status, form, keyForm);
  },
};

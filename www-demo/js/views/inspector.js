import { h, mount } from "../dom.js";
import { openStore } from "../tavern.js";

// Prompt inspector: pick a character from the library, type a message, and see the prompt the
// engine assembles (SillyTavern 1.19 rules: World Info, macros, prompt order) with its report —
// blocks and token counts, activated lorebook entries and why, entries dropped by the budget.

export const inspector = {
  path: "/inspector",
  title: "Prompt inspector",
  render({ engine }) {
    const charSel = h("select", { id: "insp-character", "aria-label": "Character" });
    const input = h("textarea", { id: "insp-input", rows: 2, "aria-label": "Message", placeholder: "Type a message to see the prompt it produces…" });
    const run = h("button", { type: "submit", class: "primary", id: "insp-run" }, "Assemble");
    const out = h("div", { id: "insp-output", class: "stack" });
    const errorBox = h("p", { id: "insp-error", class: "error", role: "alert", hidden: true });
    let characters = [];

    function assemble() {
      errorBox.hidden = true;
      const c = characters.find((x) => x.id === charSel.value);
      if (!c) {
        mount(out, h("p", { class: "muted" }, "Import or create a character in the Library first."));
        return;
      }
      try {
        const book = c.card?.data?.character_book;
        const res = engine.buildPrompt({
          character: c.card,
          persona: { name: "You" },
          chat: [
            ...(c.card?.data?.first_mes ? [{ name: c.name, isUser: false, mes: c.card.data.first_mes }] : []),
            { name: "You", isUser: true, mes: input.value || "Hello!" },
          ],
          lorebooks: book ? [{ name: `${c.name}'s lorebook`, source: "character", book, cacheKey: `${c.id}@${c.rev}` }] : [],
        });
        const r = res.report;
        const wi = r.worldInfo;
        mount(out,
          h("p", { id: "insp-summary" }, `${res.messages.length} messages · ${r.totalTokens} tokens of ${r.budget} · ${wi.activated.length} lorebook entries activated`),
          h("h2", {}, "Messages"),
          h("ol", { id: "insp-messages", class: "prompt-messages" }, res.messages.map((m) =>
            h("li", { class: `prompt-msg ${m.role}` }, h("span", { class: "who" }, m.role), h("pre", {}, m.content)))),
          h("h2", {}, "Blocks"),
          h("table", { id: "insp-blocks" },
            h("thead", {}, h("tr", {}, h("th", {}, "block"), h("th", {}, "messages"), h("th", {}, "tokens"))),
            h("tbody", {}, r.blocks.map((b) => h("tr", {}, h("td", {}, b.identifier), h("td", {}, String(b.messages)), h("td", {}, String(b.tokens)))))),
          h("h2", {}, "Lorebook"),
          wi.activated.length
            ? h("ul", { id: "insp-activated" }, wi.activated.map((e) =>
              h("li", {}, `${e.comment || `entry ${e.uid}`} — ${e.reason.kind}${e.reason.key ? ` “${e.reason.key}”` : ""}${e.reason.messageIndex !== undefined ? ` in message ${e.reason.messageIndex}` : ""}, ${e.tokens} tokens`)))
            : h("p", { class: "muted" }, "No entry activated."),
          wi.dropped.length ? h("ul", { id: "insp-dropped" }, wi.dropped.map((d) => h("li", {}, `dropped: entry ${d.uid} (${d.reason})`))) : null,
        );
      } catch (e) {
        errorBox.textContent = `${e.code ?? "error"}: ${e.message ?? e}`;
        errorBox.hidden = false;
      }
    }

    const form = h("form", { id: "insp-form", class: "chat-form", "aria-label": "Assemble a prompt" }, input, run);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); assemble(); });
    charSel.addEventListener("change", assemble);
    openStore(engine).then(async (store) => {
      characters = (await store.listCharacters({ sort: "name", limit: 500 })).items;
      mount(charSel, characters.map((c) => h("option", { value: c.id }, c.name)));
      assemble();
    });

    return h("section", { class: "stack", "aria-labelledby": "insp-title" },
      h("h1", { id: "insp-title" }, "Prompt inspector"),
      h("div", { class: "toolbar" }, charSel), form, errorBox, out);
  },
};

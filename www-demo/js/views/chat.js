import { h, mount } from "../dom.js";
import { openStore } from "../tavern.js";
import { BACKENDS, generatorFor, isEcho } from "../connection.js";

// Chat with a character from the local library: the prompt is assembled by the engine
// (buildPrompt: card, persona, lorebook, history), the reply streams in token by token through
// the chosen backend (falling back to an offline echo), and every message is stored, so a
// reload keeps the chat. Stop aborts the stream and keeps what arrived. The offline echo is not a
// model: its text is shown as a notice and never stored as the character's reply (it would go
// into later prompts). Temperature, reply length, streaming, top P and context size come from
// Settings.

const USER = "You";

export const chat = {
  path: "/chat",
  title: "Chat",
  render({ engine }) {
    const charSel = h("select", { id: "chat-character", "aria-label": "Character" });
    const backendSel = h("select", { id: "chat-backend", "aria-label": "Backend" }, BACKENDS.map((b) => h("option", { value: b.id }, b.label)));
    const log = h("ol", { id: "chat-log", class: "chat-log", "aria-live": "polite" });
    const input = h("textarea", { id: "chat-input", rows: 2, placeholder: "Say something…", "aria-label": "Message" });
    const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
    const stop = h("button", { type: "button", id: "chat-stop", hidden: true }, "Stop");
    const info = h("p", { id: "chat-info", class: "muted", role: "status" });
    const errorBox = h("p", { id: "chat-error", class: "error", role: "alert", hidden: true });
    let store = null;
    let characters = [];
    let chatRecord = null;
    let controller = null;

    const character = () => characters.find((c) => c.id === charSel.value) ?? null;
    const showError = (e) => {
      errorBox.textContent = e ? `${e.code ?? "error"}: ${e.message ?? e}` : "";
      errorBox.hidden = !e;
    };
    const bubble = (m) => h("li", { class: `msg ${m.isUser ? "user" : "char"}` },
      h("span", { class: "who" }, m.name), h("p", { class: "text" }, m.mes));

    async function openChat() {
      showError(null);
      const c = character();
      mount(log);
      chatRecord = null;
      if (!c) {
        info.textContent = "Import or create a character in the Library first.";
        return;
      }
      // The character's most recent chat, or a new one with the greeting.
      chatRecord = (await store.listChats({ characterId: c.id }))[0] ?? null;
      if (!chatRecord) {
        chatRecord = await store.createChat({ characterId: c.id, title: `Chat with ${c.name}` });
        const greeting = c.card?.data?.first_mes;
        if (greeting) {
          const text = engine.renderMacros(greeting, { char: c.name, user: USER }).output;
          await store.appendMessage(chatRecord.id, { name: c.name, isUser: false, mes: text });
        }
      }
      const messages = await store.getMessages({ chatId: chatRecord.id, limit: 200 });
      mount(log, messages.map(bubble));
      info.textContent = `${messages.length} message${messages.length === 1 ? "" : "s"}.`;
      log.lastElementChild?.scrollIntoView({ block: "end" });
    }

    async function sendMessage(text) {
      const c = character();
      if (!c || !chatRecord || !text.trim()) return;
      showError(null);
      const userMsg = await store.appendMessage(chatRecord.id, { name: USER, isUser: true, mes: text });
      log.append(bubble(userMsg));
      const history = await store.getMessages({ chatId: chatRecord.id, limit: 200 });
      const live = bubble({ name: c.name, isUser: false, mes: "" });
      live.classList.add("streaming");
      log.append(live);
      const textEl = live.querySelector(".text");
      controller = new AbortController();
      send.disabled = true;
      stop.hidden = false;
      try {
        const { gen, request, prompt: promptSettings } = await generatorFor(engine, store, backendSel.value);
        const prompt = engine.buildPrompt({
          character: c.card,
          persona: { name: USER },
          chat: history.map((m) => ({ name: m.name, isUser: m.isUser, isSystem: m.isSystem, mes: m.mes })),
          // The stored record's id and revision name this book: later turns skip re-reading it.
          lorebooks: c.card?.data?.character_book ? [{ name: c.name, source: "character", book: c.card.data.character_book, cacheKey: `${c.id}@${c.rev}` }] : [],
          settings: promptSettings,
        });
        const res = await gen.generate({ ...request, messages: prompt.messages, stop: prompt.stop }, {
          signal: controller.signal,
          onToken: (t) => { textEl.textContent += t; live.scrollIntoView({ block: "end" }); },
        });
        textEl.textContent = res.text;
        const via = res.fallbacks.length ? ` (after ${res.fallbacks.map((f) => `${f.backend}: ${f.code}`).join(", ")})` : "";
        if (isEcho(res)) {
          // Not a model: shown once as a notice, not stored, not part of later prompts.
          live.className = "msg notice";
          live.querySelector(".who").textContent = "Offline echo — not saved";
          info.textContent = `No model answered${via}; the offline echo is shown but not saved.`;
        } else {
          await store.appendMessage(chatRecord.id, {
            name: c.name, isUser: false, mes: res.text,
            extra: { api: res.backend, incomplete: res.incomplete || undefined },
          });
          info.textContent = `${res.backend}${via} · ${Math.round(res.totalMs)} ms${res.incomplete ? ` · cut short (${res.stopReason})` : ""} · prompt ${prompt.report.totalTokens} tokens`;
        }
      } catch (e) {
        live.remove();
        showError(e);
      } finally {
        live.classList.remove("streaming");
        controller = null;
        send.disabled = false;
        stop.hidden = true;
      }
    }

    const form = h("form", { id: "chat-form", class: "chat-form", "aria-label": "Send a message" }, input, send, stop);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = input.value;
      input.value = "";
      sendMessage(text);
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    stop.addEventListener("click", () => controller?.abort());
    charSel.addEventListener("change", openChat);

    openStore(engine).then(async (s) => {
      store = s;
      characters = (await store.listCharacters({ sort: "recentlyUsed", limit: 200 })).items;
      mount(charSel, characters.map((c) => h("option", { value: c.id }, c.name)));
      await openChat();
    }).catch(showError);

    return h("section", { class: "stack chat", "aria-labelledby": "chat-title" },
      h("h1", { id: "chat-title" }, "Chat"),
      h("div", { class: "toolbar" }, charSel, backendSel),
      log, form, info, errorBox);
  },
};

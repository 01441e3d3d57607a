// nextchat-tavern in a Web Worker: the engine's calls run off the page's main thread.
// Started by `TavernWorker` (worker-client.js) as a module worker; it loads the package next to
// this file, answers `{ id, method, args }` messages with `{ id, ok, result }` or
// `{ id, ok: false, error: { name, code, message } }`, and keeps compiled lorebooks
// (`compileLorebook`) until `freeLorebook`.
import init, * as tavern from "./nextchat_tavern.js";

const ready = init();
/** Lorebooks compiled in this worker, by the id handed to the page. */
const matchers = new Map();
let nextId = 1;

/** Requests name worker-side lorebooks as `{ matcher: { workerLorebook: id } }`. */
function withMatchers(request) {
  if (!request || !Array.isArray(request.lorebooks)) return request;
  const lorebooks = request.lorebooks.map((l, i) => {
    const id = l && l.matcher && l.matcher.workerLorebook;
    if (id === undefined) return l;
    const matcher = matchers.get(id);
    if (!matcher) throw fail("invalid_argument", `lorebooks[${i}].matcher: lorebook ${id} is not compiled in this worker (freed?)`);
    return { ...l, matcher };
  });
  return { ...request, lorebooks };
}

function fail(code, message) {
  const e = new Error(message);
  e.name = "TavernError";
  e.code = code;
  return e;
}

const METHODS = {
  buildPrompt: (request) => tavern.buildPrompt(withMatchers(request)),
  scanLorebooks: (request) => tavern.scanLorebooks(withMatchers(request)),
  renderMacros: (text, context) => tavern.renderMacros(text, context),
  importCard: (bytes, options) => tavern.importCard(bytes, options),
  exportCard: (card, options) => tavern.exportCard(card, options),
  compileLorebook: (name, book, settings, source) => {
    const id = nextId++;
    matchers.set(id, new tavern.LorebookMatcher(name, book, settings, source));
    return { workerLorebook: id };
  },
  freeLorebook: (ref) => {
    const id = ref && ref.workerLorebook;
    matchers.get(id)?.free();
    return matchers.delete(id);
  },
  version: () => tavern.version(),
};

self.onmessage = async (ev) => {
  const { id, method, args } = ev.data ?? {};
  try {
    await ready;
    const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : null;
    if (!fn) throw fail("invalid_argument", `unknown worker method \`${method}\` (known: ${Object.keys(METHODS).join(", ")})`);
    const result = await fn(...(Array.isArray(args) ? args : []));
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    const error = e instanceof Error
      ? { name: e.name, code: typeof e.code === "string" ? e.code : "internal", message: e.message }
      : { name: "Error", code: "internal", message: String(e) };
    self.postMessage({ id, ok: false, error });
  }
};

// The page side of worker.js: the engine's calls as Promises, answered by a Web Worker.
//   import { TavernWorker } from "nextchat-tavern/worker";
//   const tw = new TavernWorker();                      // starts worker.js next to this file
//   const { messages } = await tw.buildPrompt(request);  // same request and result as buildPrompt
// Errors reject with an Error named "TavernError" that has the engine's `code` and `message`.

export class TavernWorker {
  /** @param {Worker} [worker] a worker running worker.js (default: started here as a module worker). */
  constructor(worker) {
    this.worker = worker ?? new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "nextchat-tavern" });
    this.pending = new Map();
    this.nextId = 1;
    this.worker.addEventListener("message", (ev) => {
      const { id, ok, result, error } = ev.data ?? {};
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ok) p.resolve(result);
      else p.reject(toError(error));
    });
    // A worker that fails to load or throws outside a call fails every call still waiting.
    this.worker.addEventListener("error", (ev) => {
      ev.preventDefault?.();
      this.failAll(toError({ code: "internal", message: `the engine worker failed: ${ev.message ?? "unknown error"}` }));
    });
    this.worker.addEventListener("messageerror", () => {
      this.failAll(toError({ code: "internal", message: "a message from the engine worker could not be read" }));
    });
  }

  /** Calls `method(...args)` in the worker. */
  call(method, ...args) {
    if (!this.worker) return Promise.reject(toError({ code: "invalid_argument", message: "the engine worker was terminated" }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, method, args });
      } catch (e) {
        // Not cloneable (a function such as countTokens, a class instance …).
        this.pending.delete(id);
        reject(toError({ code: "invalid_argument", message: `${method}: the arguments cannot be sent to a worker (${e.message})` }));
      }
    });
  }

  buildPrompt(request) { return this.call("buildPrompt", request); }
  scanLorebooks(request) { return this.call("scanLorebooks", request); }
  renderMacros(text, context) { return this.call("renderMacros", text, context); }
  importCard(bytes, options) { return this.call("importCard", bytes, options); }
  exportCard(card, options) { return this.call("exportCard", card, options); }
  version() { return this.call("version"); }
  /** Compiles a lorebook once in the worker; pass the result as `lorebooks: [{ name, matcher }]`. */
  compileLorebook(name, book, settings, source) { return this.call("compileLorebook", name, book, settings, source); }
  /** Releases a lorebook compiled by `compileLorebook`. */
  freeLorebook(lorebook) { return this.call("freeLorebook", lorebook); }

  /** Stops the worker; calls still waiting reject. */
  terminate() {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(toError({ code: "internal", message: "the engine worker was terminated" }));
  }

  failAll(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

function toError(e) {
  const err = new Error(e?.message ?? "unknown error");
  err.name = "TavernError";
  err.code = e?.code ?? "internal";
  return err;
}

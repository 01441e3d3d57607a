// The demo's SillyTavern connection and generation backends, shared by the views.
//
// `make demo` starts a SillyTavern on 127.0.0.1:8123 and a small local demo model (an
// OpenAI-compatible server that streams a canned reply) on 127.0.0.1:8124. Point the connection
// at your own SillyTavern and the backend at your own model in the SillyTavern view or Settings.

export const DEFAULT_ST_URL = "http://127.0.0.1:8123";
// `?model=<url>` points the demo model elsewhere (the end-to-end tests use it).
export const DEMO_MODEL_URL = new URLSearchParams(location.search).get("model") ?? "http://127.0.0.1:8124/v1";

import { openStore } from "./tavern.js";

let client = null;
let clientUrl = null;

/** The SillyTavernClient for `url` (one per URL per page). */
export function sillyTavern(engine, url) {
  if (!client || clientUrl !== url) {
    client = new engine.SillyTavernClient({ baseUrl: url, timeoutMs: 15000 });
    clientUrl = url;
    // The character list and thumbnails also live in the library's IndexedDB: a reload shows
    // them at once, then refreshes them.
    const c = client;
    openStore(engine).then((s) => c.useCache(s)).catch(() => {});
  }
  return client;
}

/** The connection URL from settings, or the demo default. */
export async function connectionUrl(store) {
  const s = await store.getSettings().catch(() => null);
  return s?.connection?.url?.trim() || DEFAULT_ST_URL;
}

/** The backend choices the chat view offers. */
export const BACKENDS = [
  { id: "st-demo", label: "Demo model through SillyTavern" },
  { id: "direct-demo", label: "Demo model, direct" },
  { id: "settings", label: "Backend from Settings" },
  { id: "echo", label: "Offline echo (host callback)" },
];

/** The label a Generator reports for the offline echo (a host backend named "offline-echo"). */
export const ECHO_BACKEND = "host:offline-echo";

/** True when a reply came from the offline echo, which is not a model: never store it as the character's message. */
export const isEcho = (result) => result?.backend === ECHO_BACKEND;

/** An offline "model": the host-callback backend, streaming a reply word by word. */
async function* echoModel(request, { signal } = {}) {
  const last = [...(request.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";
  const words = `(offline echo) You said: ${last}`.split(/(?<= )/);
  for (const w of words) {
    if (signal?.aborted) return;
    await new Promise((r) => setTimeout(r, 30));
    yield w;
  }
}

/**
 * The generation defaults from Settings as request fields (`temperature`, `maxTokens`, `stream`,
 * `top_p`) and as prompt settings (`maxContext`, `maxTokens`): what the chat sends with every turn.
 */
export function generationDefaults(settings) {
  const g = settings?.generation ?? {};
  const request = {};
  if (g.temperature != null) request.temperature = g.temperature;
  if (g.maxTokens != null) request.maxTokens = g.maxTokens;
  if (g.stream != null) request.stream = g.stream;
  if (g.topP != null) request.extra = { top_p: g.topP };
  const prompt = {};
  if (g.contextSize != null) prompt.maxContext = g.contextSize;
  if (g.maxTokens != null) prompt.maxTokens = g.maxTokens;
  return { request, prompt };
}

/**
 * A Generator for a backend choice, with the offline echo as the fallback, and the request
 * defaults from Settings: `{ gen, request, prompt }`.
 */
export async function generatorFor(engine, store, choice) {
  const settings = await store.getSettings().catch(() => null);
  const fallback = { kind: "host", name: "offline-echo" };
  const opts = { idleTimeoutMs: 15000, host: echoModel, retry: { maxRetries: 1, baseDelayMs: 300, maxDelayMs: 2000 } };
  let gen;
  if (choice === "st-demo") {
    const st = sillyTavern(engine, await connectionUrl(store));
    gen = st.generator({ ...opts, backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: DEMO_MODEL_URL, model: "demo" }, fallback] });
  } else if (choice === "direct-demo") {
    gen = new engine.Generator({ ...opts, backends: [{ kind: "openAi", baseUrl: DEMO_MODEL_URL, model: "demo" }, fallback] });
  } else if (choice === "settings" && settings) {
    const b = settings.backend;
    const backend = b.kind === "sillyTavern"
      ? { kind: "sillyTavernChat", source: "custom", customUrl: b.baseUrl, model: b.model || undefined }
      : b.kind === "openAi" ? { kind: "openAi", baseUrl: b.baseUrl, model: b.model || undefined, apiKeyName: b.apiKeyName || undefined } : fallback;
    const backends = backend === fallback ? [fallback] : [backend, fallback];
    gen = b.kind === "sillyTavern"
      ? sillyTavern(engine, await connectionUrl(store)).generator({ ...opts, backends })
      : new engine.Generator({ ...opts, backends });
  } else {
    gen = new engine.Generator({ ...opts, backends: [fallback] });
  }
  gen.logTo(store); // usage and latency go to the store's event log
  gen.useApiKeys(store); // a backend's apiKeyName is looked up in the keys kept in Settings
  return { gen, ...generationDefaults(settings) };
}

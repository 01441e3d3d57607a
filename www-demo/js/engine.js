// Loads the wasm package once per page (idempotent: safe to call from anywhere).
let ready = null;

export function loadEngine() {
  ready ??= import("../pkg/nextchat_tavern.js").then(async (m) => {
    await m.default(); // init(): fetches nextchat_tavern_bg.wasm next to the module
    return m;
  });
  return ready;
}

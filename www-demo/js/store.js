// A minimal state store: one object, shallow-merged updates, synchronous subscribers.

export function createStore(initial) {
  let state = { ...initial };
  const subs = new Set();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...(typeof patch === "function" ? patch(state) : patch) };
      for (const fn of subs) fn(state);
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

/** The demo's app-wide state. */
export const store = createStore({
  engine: null, // the loaded wasm module's exports
  engineError: null,
  route: "/",
});

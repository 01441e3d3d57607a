import { h } from "../dom.js";

/** The landing view: what this is and what the loaded engine reports. */
export const home = {
  path: "/",
  title: "Home",
  render({ engine }) {
    const info = engine.buildInfo();
    return h("section", { class: "stack", "aria-labelledby": "home-title" },
      h("h1", { id: "home-title" }, "Character roleplay in your browser"),
      h("p", {}, "This demo runs the nextchat-tavern engine — character cards, lorebooks, prompts and storage — entirely in WebAssembly, with no server."),
      h("div", { class: "card" },
        h("h2", {}, "Engine"),
        h("dl", { class: "facts", id: "build-info" },
          h("dt", {}, "package"), h("dd", {}, info.name),
          h("dt", {}, "version"), h("dd", { id: "home-version" }, info.version),
          h("dt", {}, "target"), h("dd", {}, info.targetArch),
          h("dt", {}, "build"), h("dd", {}, info.debug ? "debug" : "release"),
          h("dt", {}, "error codes"), h("dd", {}, String(engine.errorCodes().length)),
        ),
      ),
    );
  },
};

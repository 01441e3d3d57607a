// `npm pack` on pkg/ gives a tarball that installs into a fresh project and works there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

test("npm pack gives an installable tarball with the js, wasm, types and package.json", () => {
  const tmp = mkdtempSync(join(tmpdir(), "nct-pack-"));
  try {
    const [info] = JSON.parse(npm(["pack", pkgDir, "--json", "--pack-destination", tmp], tmp));
    const files = info.files.map((f) => f.path).sort();
    for (const f of ["package.json", "nextchat_tavern.js", "nextchat_tavern_bg.wasm", "nextchat_tavern.d.ts", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]) {
      assert.ok(files.includes(f), `${f} missing from ${files}`);
    }
    const app = join(tmp, "app");
    execFileSync("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    npm(["install", "--offline", "--no-audit", "--no-fund", join(tmp, info.filename)], app);
    const script = `
      import { readFileSync } from "node:fs";
      import { createRequire } from "node:module";
      import { initSync, version } from "nextchat-tavern";
      const require = createRequire(import.meta.url);
      initSync({ module: readFileSync(require.resolve("nextchat-tavern/nextchat_tavern_bg.wasm")) });
      console.log(version());`;
    writeFileSync(join(app, "main.mjs"), script);
    const out = execFileSync(process.execPath, ["main.mjs"], { cwd: app, encoding: "utf8" }).trim();
    const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    assert.equal(out, version);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

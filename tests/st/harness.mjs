// Shared setup for tests against a real SillyTavern: free ports, the demo server (which serves
// pkg/ at /pkg/), SillyTavern started by scripts/sillytavern.sh with CORS for the page's origin,
// and a Chromium page with the package loaded as `window.nct`.
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "../../scripts/serve.mjs";
import { launch, collectErrors } from "../e2e/browser.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/** Starts the page server, a SillyTavern (options: { accounts, pageHost }) and Chromium with the
 *  package loaded. `pageHost` opens the page under another name of 127.0.0.1 (e.g. "localhost"),
 *  while SillyTavern stays on 127.0.0.1 and allows the page's origin. */
export async function startAll({ accounts = false, pageHost = "127.0.0.1" } = {}) {
  const { server, url } = await serve({ port: await freePort() });
  const pageUrl = url.replace("//127.0.0.1:", `//${pageHost}:`);
  const origin = pageUrl.replace(/\/$/, "");
  const stPort = await freePort();
  execFileSync("scripts/sillytavern.sh", ["start", String(stPort), origin], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ST_ACCOUNTS: accounts ? "true" : "false" },
  });
  const browser = await launch();
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(pageUrl);
  await page.evaluate(async () => {
    const m = await import("/pkg/nextchat_tavern.js");
    await m.default();
    window.nct = m;
  });
  return {
    page,
    errors,
    stUrl: `http://127.0.0.1:${stPort}`,
    pageUrl,
    pageServer: server,
    browser,
    async stop() {
      await browser.close();
      server.close();
      execFileSync("scripts/sillytavern.sh", ["stop", String(stPort)], { cwd: root, stdio: "inherit" });
    },
  };
}

/** Runs `fn(nct, client, arg)` in the page; errors come back as { code, message }. */
export async function inPage(page, stUrl, fn, arg) {
  return page.evaluate(
    async ({ src, stUrl, arg }) => {
      const f = new Function("return " + src)();
      try {
        const client = new window.nct.SillyTavernClient({ baseUrl: stUrl, timeoutMs: 15000 });
        return { ok: await f(window.nct, client, arg) };
      } catch (e) {
        return { err: { code: e?.code, name: e?.name, message: String(e?.message ?? e) } };
      }
    },
    { src: fn.toString(), stUrl, arg },
  );
}

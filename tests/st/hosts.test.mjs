// The page opened as "localhost" while SillyTavern runs on 127.0.0.1 (its CORS allows the page's
// origin): the browser does not keep SillyTavern's session cookie across the two host names, so
// every POST is refused with "Invalid CSRF token". The client must say why, not just "forbidden".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, inPage } from "./harness.mjs";

let env;
before(async () => { env = await startAll({ pageHost: "localhost" }); });
after(async () => { await env?.stop(); });

test("page on localhost, SillyTavern on 127.0.0.1: the cookie and host-name explanation", async () => {
  assert.match(env.pageUrl, /^http:\/\/localhost:/);
  const r = await inPage(env.page, env.stUrl, async (_, c) => c.characters());
  assert.ok(r.err, `expected an error, got ${JSON.stringify(r.ok)?.slice(0, 200)}`);
  assert.equal(r.err.code, "cors_blocked", JSON.stringify(r.err));
  assert.match(r.err.message, /"localhost"/);
  assert.match(r.err.message, /"127\.0\.0\.1"/);
  assert.match(r.err.message, /same host name/);
  assert.match(r.err.message, /cookie/);
  assert.doesNotMatch(r.err.message, /refresh the page/i);
});

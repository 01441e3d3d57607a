// The demo's Chat view in headless Chromium against the fake OpenAI-compatible model: the
// generation defaults from Settings reach the model's request, and the offline echo (the
// fallback that is not a model) is shown as a notice but never stored as the character's reply.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { serve } from "../../scripts/serve.mjs";
import { startFakeOpenAI } from "../../scripts/fake-openai.mjs";
import { launch, collectErrors } from "./browser.mjs";

const fixture = (name) => fileURLToPath(new URL(`../fixtures/cards/${name}`, import.meta.url));
let server, url, browser, page, errors, model;

before(async () => {
  ({ server, url } = await serve({ port: 0 }));
  model = await startFakeOpenAI({ record: true });
  browser = await launch();
  page = await browser.context.newPage();
  errors = collectErrors(page);
});
after(async () => {
  await browser?.close();
  server?.close();
  model?.close();
});

const at = (hash) => new URL(`?model=${encodeURIComponent(`${model.url}/v1`)}#${hash}`, url).href;
const recorded = () => fetch(`${model.url}/requests`).then((r) => r.json());
const logTexts = () => page.$$eval("#chat-log li", (els) => els.map((e) => `${e.className}|${e.querySelector(".text").textContent}`));

test("Settings apply to requests; the offline echo is a notice, never a stored reply", async () => {
  await page.goto(at("/library"));
  await page.waitForFunction(() => /saved in this browser/.test(document.getElementById("library-status")?.textContent ?? ""));
  await page.setInputFiles("#library-import", [fixture("v1_basic.json")]);
  await page.waitForFunction(() => /^Imported .* 1 character/.test(document.getElementById("library-status").textContent));

  // Generation defaults in Settings.
  await page.goto(at("/settings"));
  await page.waitForSelector("#set-generation-temperature");
  await page.fill("#set-generation-temperature", "0.35");
  await page.fill("#set-generation-topP", "0.8");
  await page.fill("#set-generation-maxTokens", "123");
  await page.fill("#set-generation-contextSize", "8192");
  await page.setChecked("#set-generation-stream", false);
  await page.click("#settings-save");
  await page.waitForFunction(() => document.getElementById("settings-status").textContent === "Saved.");

  // A turn with the demo model, direct: the request carries the Settings values.
  await page.goto(at("/chat"));
  await page.waitForSelector("#chat-log li.msg.char");
  const before = (await logTexts()).length;
  await page.selectOption("#chat-backend", "direct-demo");
  await fetch(`${model.url}/requests`, { method: "DELETE" });
  await page.fill("#chat-input", "Where are we?");
  await page.click("#chat-send");
  await page.waitForFunction((n) => !document.querySelector(".msg.streaming") && document.querySelectorAll("#chat-log li.msg").length === n + 2, before);
  const [req] = await recorded();
  assert.ok(req, "the model got a request");
  assert.equal(req.body.temperature, 0.35);
  assert.equal(req.body.max_tokens, 123);
  assert.equal(req.body.top_p, 0.8);
  assert.equal(req.body.stream, false);
  assert.match((await logTexts()).at(-1), /^msg char\|.*"Where are we\?"/);

  // The offline echo: shown as a notice, with a status that says it was not saved.
  await page.selectOption("#chat-backend", "echo");
  await page.fill("#chat-input", "Anyone there?");
  await page.click("#chat-send");
  await page.waitForSelector("#chat-log li.msg.notice:not(.streaming)");
  assert.match((await logTexts()).at(-1), /^msg notice\|\(offline echo\) You said: Anyone there\?/);
  assert.match(await page.textContent("#chat-info"), /not saved/);

  // After a reload the chat has the user's message but no echo: it never reached the store,
  // so it cannot go into a later prompt.
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll("#chat-log li").length === n + 3, before);
  const after = await logTexts();
  assert.match(after.at(-1), /^msg user\|Anyone there\?$/);
  assert.ok(after.every((t) => !t.includes("offline echo")), after.join("\n"));

  // The next turn's prompt has no echo in it either.
  await page.selectOption("#chat-backend", "direct-demo");
  await fetch(`${model.url}/requests`, { method: "DELETE" });
  await page.fill("#chat-input", "Hello?");
  await page.click("#chat-send");
  await page.waitForFunction(() => document.querySelector("#chat-log li.msg.char:last-child .text")?.textContent.includes("Hello?"));
  const [next] = await recorded();
  assert.ok(next.body.messages.every((m) => !String(m.content).includes("offline echo")), "no echo in the next prompt");
  assert.equal(next.authorization, null, "the demo model gets no key");
});

test("Backend from Settings: a direct OpenAI-compatible URL with a stored API key", async () => {
  await page.goto(at("/settings"));
  await page.waitForSelector("#set-backend-kind");
  await page.fill("#settings-key-name", "mykey");
  await page.fill("#settings-key-value", "sk-test-1234");
  await page.click("#settings-key-form button[type=submit]");
  await page.waitForFunction(() => /Stored keys: mykey/.test(document.getElementById("settings-keys").textContent));
  await page.selectOption("#set-backend-kind", "openAi");
  await page.fill("#set-backend-baseUrl", `${model.url}/v1`);
  await page.fill("#set-backend-model", "demo");
  await page.fill("#set-backend-apiKeyName", "mykey");
  await page.click("#settings-save");
  await page.waitForFunction(() => document.getElementById("settings-status").textContent === "Saved.");

  await page.goto(at("/chat"));
  await page.waitForSelector("#chat-log li.msg.char");
  await page.selectOption("#chat-backend", "settings");
  await fetch(`${model.url}/requests`, { method: "DELETE" });
  await page.fill("#chat-input", "Is the key sent?");
  await page.click("#chat-send");
  await page.waitForFunction(() => document.querySelector("#chat-log li.msg.char:last-child .text")?.textContent.includes("Is the key sent?"));
  const [req] = await recorded();
  assert.equal(req.authorization, "Bearer sk-test-1234");
  assert.equal(req.body.model, "demo");
  // The status line is written once the reply is stored (after the text is shown).
  await page.waitForFunction(() => /^openai:/.test(document.getElementById("chat-info").textContent));
});

test("no console errors", () => {
  assert.deepEqual(errors, []);
});

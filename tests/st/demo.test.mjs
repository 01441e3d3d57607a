// The demo as a person uses it, against a real SillyTavern and the demo model: connect, see the
// server's characters with avatars, import one into the library, chat with a streamed reply,
// and find the chat again after a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll } from "./harness.mjs";
import { startFakeOpenAI } from "../../scripts/fake-openai.mjs";

let env, model;
before(async () => {
  model = await startFakeOpenAI();
  env = await startAll();
});
after(async () => {
  await env?.stop();
  model?.close();
});

test("connect, import a SillyTavern character, chat with streaming, reload keeps the chat", async () => {
  const p = await env.browser.context.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(e.message));
  p.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const base = `${env.pageUrl}?model=${encodeURIComponent(model.url + "/v1")}`;
  await p.goto(`${base}#/sillytavern`);
  await p.fill("#st-url", env.stUrl);
  await p.click("#st-connect");
  await p.waitForSelector('#st-grid li[data-avatar="default_Seraphina.png"] img[src^="blob:"]', { timeout: 60000 }).catch(async (e) => {
    // Say what the page says (a wrong URL, a CORS or network error), not only that it timed out.
    throw new Error(`${e.message}\nstatus: ${await p.textContent("#st-status")}\nerror: ${await p.textContent("#st-error")}\nurl field: ${await p.inputValue("#st-url")}`);
  });
  assert.equal(await p.inputValue("#st-url"), env.stUrl, "the URL typed is the one connected to");
  assert.match(await p.textContent("#st-status"), /Connected: 1 character/);
  const natural = await p.$eval('#st-grid li img', (img) => img.decode().then(() => img.naturalWidth));
  assert.ok(natural > 0, "the avatar (fetched with credentials, blob URL) renders");
  await p.click("#st-grid li .st-import");
  await p.waitForFunction(() => document.querySelector("#st-grid li .st-import").textContent.includes("Imported"), null, { timeout: 30000 });

  await p.goto(`${base}#/chat`);
  await p.waitForSelector("#chat-log li.msg.char", { timeout: 30000 });
  assert.equal(await p.inputValue("#chat-character").then(() => p.$eval("#chat-character", (s) => s.selectedOptions[0].textContent)), "Seraphina");
  await p.fill("#chat-input", "Where are we?");
  const sawStreaming = p.waitForSelector(".msg.streaming .text:not(:empty)", { timeout: 30000 });
  await p.click("#chat-send");
  await sawStreaming; // tokens appear before the reply is complete
  await p.waitForFunction(() => !document.querySelector(".msg.streaming") && document.querySelectorAll("#chat-log li").length === 3, null, { timeout: 30000 });
  const reply = await p.$$eval("#chat-log li.msg.char .text", (els) => els.at(-1).textContent);
  assert.match(reply, /"Where are we\?"/);
  assert.match(await p.textContent("#chat-info"), /sillytavern-chat:custom/);

  await p.reload();
  await p.waitForFunction(() => document.querySelectorAll("#chat-log li").length === 3, null, { timeout: 30000 });

  // The prompt inspector shows the assembled prompt for the imported character, with its report.
  await p.goto(`${base}#/inspector`);
  await p.waitForSelector("#insp-summary", { timeout: 30000 });
  await p.fill("#insp-input", "Tell me about the forest.");
  await p.click("#insp-run");
  await p.waitForFunction(() => document.querySelector("#insp-messages li:last-child pre")?.textContent === "Tell me about the forest.");
  const system = await p.$$eval("#insp-messages li.system pre", (els) => els.map((e) => e.textContent).join("\n"));
  assert.match(system, /Seraphina/, "the card's name and description are in the prompt");
  assert.doesNotMatch(system, /Write 's next reply/, "the character name is filled in");
  assert.ok(await p.$$eval("#insp-blocks tbody tr", (rows) => rows.length) > 2);
  assert.match(await p.textContent("#insp-summary"), /\d+ messages · \d+ tokens/);
  assert.deepEqual(errors, []);
  await p.close();
});

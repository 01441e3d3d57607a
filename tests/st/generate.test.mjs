// Generation through a REAL SillyTavern (chat and text completions proxied to a fake upstream),
// a direct OpenAI-compatible endpoint and a host callback: streaming, abort, dropped streams,
// retries, fallback and the circuit breaker — all from headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll } from "./harness.mjs";
import { startFakeOpenAI } from "../../scripts/fake-openai.mjs";

let env, fake;
before(async () => {
  fake = await startFakeOpenAI();
  env = await startAll();
});
after(async () => {
  await env?.stop();
  fake?.close();
});

/** Runs `fn(nct, ctx)` in the page with ctx = { stUrl, fakeUrl }; returns { ok } or { err }. */
async function inPage(fn) {
  return env.page.evaluate(
    async ({ src, ctx }) => {
      const f = new Function("return " + src)();
      try { return { ok: await f(window.nct, ctx) }; }
      catch (e) { return { err: { code: e?.code, message: String(e?.message ?? e) } }; }
    },
    { src: fn.toString(), ctx: { stUrl: env.stUrl, fakeUrl: fake.url } },
  );
}
const ok = (r) => { assert.ok(!r.err, `unexpected error: ${JSON.stringify(r.err)}`); return r.ok; };
const msgs = [{ role: "user", content: "Hi" }];

test("SillyTavern chat-completions proxy streams tokens", async () => {
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({ backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-ok" }] });
    const tokens = [];
    const res = await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, { onToken: (t) => tokens.push(t) });
    return { res, tokens };
  }));
  assert.deepEqual(r.tokens, ["Hel", "lo ", "there."]);
  assert.equal(r.res.text, "Hello there.");
  assert.equal(r.res.incomplete, false);
  assert.equal(r.res.stopReason, "done");
  assert.equal(r.res.backend, "sillytavern-chat:custom");
  assert.ok(r.res.firstTokenMs >= 0);
});

test("SillyTavern text-completions proxy streams, and a non-streamed request works", async () => {
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({ backends: [{ kind: "sillyTavernText", apiType: "generic", apiServer: fakeUrl, model: "fake-ok" }] });
    const streamed = await gen.generate({ prompt: "Once upon a time" }, {});
    const chat = st.generator({ backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-ok" }] });
    const whole = await chat.generate({ messages: [{ role: "user", content: "Hi" }], stream: false }, {});
    return { streamed, whole };
  }));
  assert.equal(r.streamed.text, "Hello there.");
  assert.equal(r.whole.text, "Hello there.");
  assert.equal(r.whole.finishReason, "stop");
});

test("direct OpenAI-compatible endpoint and the host callback (promise and async iterator)", async () => {
  const r = ok(await inPage(async (nct, { fakeUrl }) => {
    const direct = new nct.Generator({ backends: [{ kind: "openAi", baseUrl: fakeUrl + "/v1", apiKey: "sk-test", model: "fake-ok" }] });
    const d = await direct.generate({ messages: [{ role: "user", content: "Hi" }] }, {});
    const seen = [];
    const iter = new nct.Generator({
      backends: [{ kind: "host", name: "nextchat" }],
      host: async function* (req) { seen.push(req.messages[0].content); yield "A"; yield "B"; },
    });
    const tokens = [];
    const i = await iter.generate({ messages: [{ role: "user", content: "ping" }] }, { onToken: (t) => tokens.push(t) });
    const prom = new nct.Generator({ backends: [{ kind: "host" }], host: async () => "whole reply" });
    const p = await prom.generate({ messages: [] }, {});
    return { d, i, tokens, seen, p };
  }));
  assert.equal(r.d.text, "Hello there.");
  assert.equal(r.d.backend.startsWith("openai:"), true);
  assert.equal(r.d.backend.includes("sk-test"), false);
  assert.equal(r.i.text, "AB");
  assert.deepEqual(r.tokens, ["A", "B"]);
  assert.deepEqual(r.seen, ["ping"]);
  assert.equal(r.p.text, "whole reply");
  assert.equal(r.i.backend, "host:nextchat");
});

test("abort mid-stream keeps the text so far", async () => {
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({ backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-slow" }] });
    const ac = new AbortController();
    const tokens = [];
    const res = await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {
      signal: ac.signal,
      onToken: (t) => { tokens.push(t); if (tokens.length === 2) ac.abort(); },
    });
    return { res, tokens };
  }));
  assert.equal(r.res.stopReason, "aborted");
  assert.equal(r.res.incomplete, true);
  assert.equal(r.res.text, r.tokens.join(""));
  assert.ok(r.tokens.length >= 2 && r.tokens.length < 10, JSON.stringify(r.tokens));
});

test("an upstream that drops mid-stream behind SillyTavern ends by idle timeout with the partial text", async () => {
  const t0 = Date.now();
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({
      idleTimeoutMs: 1500,
      backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-drop" }],
    });
    return gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {});
  }));
  assert.equal(r.text, "Once upon");
  assert.equal(r.incomplete, true);
  assert.equal(r.stopReason, "idleTimeout");
  assert.ok(Date.now() - t0 < 15_000);
});

test("a direct stream that drops is flagged dropped; a stalled one times out", async () => {
  const r = ok(await inPage(async (nct, { fakeUrl }) => {
    const mk = (model) => new nct.Generator({ idleTimeoutMs: 1000, backends: [{ kind: "openAi", baseUrl: fakeUrl + "/v1", model }] });
    const dropped = await mk("fake-drop").generate({ messages: [{ role: "user", content: "Hi" }] }, {});
    const stalled = await mk("fake-stall").generate({ messages: [{ role: "user", content: "Hi" }] }, {});
    return { dropped, stalled };
  }));
  assert.equal(r.dropped.text, "Once upon");
  assert.equal(r.dropped.stopReason, "dropped");
  assert.equal(r.stalled.text, "Once upon");
  assert.equal(r.stalled.stopReason, "idleTimeout");
});

test("429 with Retry-After is retried, then the fallback answers and the switch is reported", async () => {
  const before429 = fake.stats["fake-429"] ?? 0;
  const r = ok(await inPage(async (nct, { fakeUrl }) => {
    const fallbacks = [];
    const gen = new nct.Generator({
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 2000 },
      backends: [{ kind: "openAi", baseUrl: fakeUrl + "/v1", model: "fake-429" }, { kind: "host", name: "backup" }],
      host: async () => "from the host",
    });
    const t0 = performance.now();
    const res = await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, { onFallback: (f) => fallbacks.push(f) });
    return { res, fallbacks, ms: performance.now() - t0 };
  }));
  assert.equal((fake.stats["fake-429"] ?? 0) - before429, 2, "one try + one retry");
  assert.ok(r.ms >= 950, `Retry-After: 1 was honoured (${r.ms} ms)`);
  assert.equal(r.res.text, "from the host");
  assert.equal(r.res.backend, "host:backup");
  assert.equal(r.fallbacks.length, 1);
  assert.equal(r.fallbacks[0].code, "rate_limited");
});

test("the circuit breaker skips a failing SillyTavern backend until its cooldown", async () => {
  const before500 = fake.stats["fake-500"] ?? 0;
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({
      retry: { maxRetries: 0, baseDelayMs: 10, maxDelayMs: 10 },
      breaker: { failureThreshold: 2, cooldownMs: 60000 },
      backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-500" }, { kind: "host" }],
      host: async () => "fallback",
    });
    const out = [];
    for (let i = 0; i < 4; i++) out.push(await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {}));
    return out.map((o) => ({ text: o.text, codes: o.fallbacks.map((f) => f.code) }));
  }));
  assert.deepEqual(r.map((x) => x.text), ["fallback", "fallback", "fallback", "fallback"]);
  assert.equal(r[0].codes[0], "server_error");
  assert.equal(r[1].codes[0], "server_error");
  assert.deepEqual(r[2].codes, ["circuit_open"]);
  assert.deepEqual(r[3].codes, ["circuit_open"]);
  assert.equal((fake.stats["fake-500"] ?? 0) - before500, 2, "the open circuit sent nothing upstream");
});

test("malformed SSE and a bad configuration are typed errors", async () => {
  const r = await inPage(async (nct, { fakeUrl }) => {
    const gen = new nct.Generator({ retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, backends: [{ kind: "openAi", baseUrl: fakeUrl + "/v1", model: "fake-malformed" }] });
    return gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {});
  });
  assert.equal(r.err?.code, "server_error");
  assert.match(r.err.message, /malformed stream event/);
  const bad = await inPage(async (nct) => new nct.Generator({ backends: [{ kind: "host" }] }));
  assert.equal(bad.err?.code, "invalid_argument");
  const none = await inPage(async (nct) => new nct.Generator({ backends: [] }));
  assert.equal(none.err?.code, "invalid_argument");
});

test("usage and latency of every generation land in the store's event log", async () => {
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    const store = await nct.TavernStore.open(null);
    const st = new nct.SillyTavernClient({ baseUrl: stUrl });
    const gen = st.generator({
      retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
      backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-ok" }],
    });
    gen.logTo(store);
    await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {});
    const bad = new nct.Generator({ retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, backends: [{ kind: "openAi", baseUrl: fakeUrl + "/v1", model: "fake-500" }] });
    bad.logTo(store);
    try { await bad.generate({ messages: [{ role: "user", content: "Hi" }] }, {}); } catch {}
    return store.events({});
  }));
  const gens = r.filter((e) => e.kind === "generation");
  assert.equal(gens.length, 2);
  assert.equal(gens[0].data.ok, true);
  assert.equal(gens[0].data.backend, "sillytavern-chat:custom");
  assert.equal(gens[0].data.chars, "Hello there.".length);
  assert.ok(gens[0].data.totalMs >= 0 && gens[0].data.firstTokenMs >= 0);
  assert.deepEqual(gens[1].data, { ok: false, code: "server_error" });
});

test("a direct backend that is down, unresolvable or refusing CORS is named and explained", async () => {
  const { freePort } = await import("./harness.mjs");
  const noCors = await startFakeOpenAI({ cors: false });
  const urls = {
    down: `http://127.0.0.1:${await freePort()}/v1`,
    unresolvable: "http://no-such-host.invalid/v1",
    noCors: noCors.url + "/v1",
  };
  // Probes must go to the backend, never to the page's own server.
  const probes = [];
  const onRequest = (req) => { if (req.url.includes("probe")) probes.push(req.url.slice(0, 40)); };
  env.pageServer.on("request", onRequest);
  let r;
  try {
    r = await env.page.evaluate(async (urls) => {
      const out = {};
      for (const [name, baseUrl] of Object.entries(urls)) {
        const gen = new window.nct.Generator({
          retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
          backends: [{ kind: "openAi", baseUrl, model: "fake-ok" }],
        });
        try { await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {}); out[name] = { ok: true }; }
        catch (e) { out[name] = { code: e.code, message: String(e.message) }; }
      }
      return out;
    }, urls);
  } finally {
    env.pageServer.off("request", onRequest);
    noCors.close();
  }
  for (const name of ["down", "unresolvable"]) {
    assert.equal(r[name].code, "network", `${name}: ${JSON.stringify(r[name])}`);
    assert.ok(r[name].message.includes(urls[name]), `${name} names its URL: ${r[name].message}`);
  }
  assert.equal(r.noCors.code, "cors_blocked", JSON.stringify(r.noCors));
  assert.ok(r.noCors.message.includes(urls.noCors), `names the URL: ${r.noCors.message}`);
  assert.ok(!r.noCors.message.includes("config.yaml"), `no SillyTavern advice for another server: ${r.noCors.message}`);
  assert.ok(!/reach\s+from/.test(r.noCors.message), r.noCors.message);
  assert.deepEqual(probes, [], "the page's own server was not probed");
});

test("a generation does not wait behind list calls that used up the rate limit", async () => {
  const r = ok(await inPage(async (nct, { stUrl, fakeUrl }) => {
    // A slow bucket (burst 2, one request per 2 s) makes any wait behind the reads obvious.
    const st = new nct.SillyTavernClient({ baseUrl: stUrl, rateLimit: { capacity: 2, refillPerSec: 0.5 } });
    await st.groups();
    await st.groups(); // the bucket of reads is now empty: a third read would wait ~2 s
    const gen = st.generator({ backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: fakeUrl + "/v1", model: "fake-ok" }] });
    const t0 = performance.now();
    const res = await gen.generate({ messages: [{ role: "user", content: "Hi" }] }, {});
    const genMs = performance.now() - t0;
    const r0 = performance.now();
    await st.worldInfoList();
    return { text: res.text, firstTokenMs: res.firstTokenMs, genMs, readMs: performance.now() - r0 };
  }));
  assert.equal(r.text, "Hello there.");
  assert.ok(r.genMs < 1500, `the generation waited for the reads' bucket: ${JSON.stringify(r)}`);
  assert.ok(r.readMs >= 1000, `reads are still paced: ${JSON.stringify(r)}`);
});

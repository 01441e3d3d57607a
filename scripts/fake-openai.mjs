// A fake OpenAI-compatible server on 127.0.0.1 for tests and the demo, controlled through the
// model name:
//   demo             streams a short in-character reply to the last user message (the demo's model)
//   fake-ok          streams "Hello there." in three chunks, then [DONE]
//   fake-slow        streams ten chunks 150 ms apart
//   fake-stall       streams two chunks, then sends nothing and keeps the connection open
//   fake-drop        streams two chunks, then destroys the socket (no [DONE])
//   fake-429         answers 429 with Retry-After: 1
//   fake-500         answers 500
//   fake-malformed   sends an SSE event whose data is not JSON
// Non-streamed requests get the whole text as one chat.completion. GET /stats returns request
// counts per model. CORS is open (no credentials), as typical OpenAI-compatible servers do.
// With `record: true` (or `--record`), every POST is also kept as { method, url, authorization, body } in
// `requests` (GET /requests returns them, DELETE /requests empties the list): the golden
// recorders use it to see exactly what SillyTavern sent upstream.
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

/** The demo model's reply to a chat request. */
function demoReply(j) {
  const msgs = j.messages ?? [];
  const last = [...msgs].reverse().find((m) => m.role === "user")?.content ?? j.prompt ?? "";
  const said = String(last).replace(/\s+/g, " ").trim().slice(0, 120);
  return said
    ? `*leans in, listening.* "${said}" — is that so? Tell me more; I am only the demo model, but I am all ears.`
    : "*waves.* Hello! I am the demo model. Say something and I will answer, token by token.";
}

/** `cors: false` answers without any CORS header (a server the browser refuses to read). */
export async function startFakeOpenAI({ port = 0, record = false, cors: withCors = true } = {}) {
  const stats = {};
  const requests = [];
  const sockets = new Set();
  const server = createServer((req, res) => {
    const cors = withCors ? {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "content-type, authorization",
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-expose-headers": "retry-after",
    } : {};
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    if (req.url === "/stats") return res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(stats));
    if (record && req.url === "/requests") {
      if (req.method === "DELETE") requests.length = 0;
      return res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(requests));
    }
    if (req.url.endsWith("/models")) {
      return res.writeHead(200, { ...cors, "content-type": "application/json" })
        .end(JSON.stringify({ object: "list", data: [{ id: "fake-ok", object: "model" }] }));
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let j = {};
      try { j = JSON.parse(body || "{}"); } catch {}
      if (record && req.method === "POST") requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null, body: j });
      const model = j.model ?? "fake-ok";
      stats[model] = (stats[model] ?? 0) + 1;
      const text = req.url.endsWith("/completions") && !req.url.endsWith("/chat/completions");
      const chunk = (s) => `data: ${JSON.stringify(text
        ? { object: "text_completion", choices: [{ index: 0, text: s, finish_reason: null }] }
        : { object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: s }, finish_reason: null }] })}\n\n`;
      if (model === "fake-429") return res.writeHead(429, { ...cors, "retry-after": "1", "content-type": "application/json" }).end('{"error":{"message":"slow down"}}');
      if (model === "fake-500") return res.writeHead(500, { ...cors, "content-type": "application/json" }).end('{"error":{"message":"upstream exploded"}}');
      if (!j.stream) {
        const whole = model === "demo" ? demoReply(j) : "Hello there.";
        return res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(text
          ? { object: "text_completion", choices: [{ index: 0, text: whole, finish_reason: "stop" }] }
          : { id: "c1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: whole }, finish_reason: "stop" }] }));
      }
      res.writeHead(200, { ...cors, "content-type": "text/event-stream", "cache-control": "no-cache" });
      const parts = model === "fake-slow" ? Array.from({ length: 10 }, (_, i) => `w${i} `)
        : model === "demo" ? demoReply(j).split(/(?<= )/) : ["Hel", "lo ", "there."];
      if (model === "fake-malformed") return res.end("data: {this is not json\n\ndata: [DONE]\n\n");
      if (model === "fake-stall" || model === "fake-drop") {
        res.write(chunk("Once "));
        res.write(chunk("upon"));
        if (model === "fake-drop") setTimeout(() => req.socket.destroy(), 100);
        return; // stall: keep the connection open, send nothing more
      }
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i < parts.length) { res.write(chunk(parts[i++])); setTimeout(next, model === "fake-slow" ? 150 : model === "demo" ? 40 : 5); }
        else res.end("data: [DONE]\n\n");
      };
      next();
    });
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise((ok, fail) => { server.once("error", fail); server.listen(port, "127.0.0.1", ok); });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    requests,
    close() { for (const s of sockets) s.destroy(); server.close(); },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--port");
  const { url } = await startFakeOpenAI({ port: i > 0 ? Number(process.argv[i + 1]) : 8124, record: process.argv.includes("--record") });
  console.log(`demo model (OpenAI-compatible, model "demo"): ${url}/v1`);
}

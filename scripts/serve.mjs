// A small static file server for the demo: www-demo/ at "/", the built package at "/pkg/".
// Binds to 127.0.0.1 only and serves .wasm as application/wasm.
//   node scripts/serve.mjs [--port 8080]
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".ts": "text/plain; charset=utf-8",
};

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Maps a URL path to a file under one of the mounted folders, or null. */
function locate(urlPath, mounts) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split("?")[0]);
  } catch {
    return null;
  }
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const rel = normalize(path.slice(prefix.length)).replace(/^([/\\])+/, "");
    const file = join(dir, rel);
    if (file !== dir && !file.startsWith(dir + sep)) return null; // no escaping the mount
    try {
      const st = statSync(file);
      if (st.isDirectory()) {
        const index = join(file, "index.html");
        return statSync(index).isFile() ? index : null;
      }
      return st.isFile() ? file : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Starts the server; resolves to { server, url }. Port 0 picks a free port. */
export function serve({ port = 8080, host = "127.0.0.1" } = {}) {
  const mounts = [
    ["/pkg/", join(root, "pkg")],
    ["/", join(root, "www-demo")],
  ];
  const server = createServer((req, res) => {
    const file = req.method === "GET" || req.method === "HEAD" ? locate(req.url, mounts) : null;
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "content-type": MIME[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      const a = server.address();
      ok({ server, url: `http://${host}:${a.port}/` });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--port");
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  const { url } = await serve({ port });
  console.log(`nextchat-tavern demo: ${url}  (Ctrl-C to stop)`);
}

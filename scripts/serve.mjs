// A small static file server for the demo: www-demo/ at "/", the built package at "/pkg/".
// Binds to 127.0.0.1 only and serves .wasm as application/wasm. Text and wasm files are sent
// brotli- or gzip-compressed when the client accepts it (compressed once per file version and
// kept in memory), with a strong ETag; `no-cache` makes the browser revalidate every time
// (a 304 when nothing changed), so a rebuilt package is always picked up.
//   node scripts/serve.mjs [--port 8080]
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliCompress, constants as zc, gzip } from "node:zlib";

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

/** Extensions sent compressed when the client accepts it. */
const COMPRESSIBLE = new Set([".wasm", ".js", ".mjs", ".css", ".html", ".json", ".svg", ".ts"]);

// Brotli quality 9, not 11: on the 1.9 MB module 11 saves another ~11% but costs ~6 s of CPU
// (against ~0.5 s), which every first page load after a rebuild, and every e2e test file, would wait
// for. `scripts/size.mjs` reports the quality-11 size a static host would precompress to.
const ENCODERS = {
  br: (b) =>
    promisify(brotliCompress)(b, {
      params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_SIZE_HINT]: b.length },
    }),
  gzip: (b) => promisify(gzip)(b, { level: 9 }),
};

/** The encoding to send: br, then gzip, else identity; `q=0` refuses one, `*` accepts any. */
function pickEncoding(header) {
  const q = new Map();
  for (const part of String(header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const v = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(v) ? v : 0);
  }
  const ok = (enc) => (q.has(enc) ? q.get(enc) > 0 : (q.get("*") ?? 0) > 0);
  return ["br", "gzip"].find(ok) ?? "identity";
}

/**
 * File contents, ETag and compressed variants, per path; an entry is valid for one
 * (mtime, size, inode) of its file and replaced when the file changes.
 */
function fileCache() {
  const entries = new Map();
  return async function get(file) {
    const st = await stat(file);
    const version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    let e = entries.get(file);
    if (!e || e.version !== version) {
      const bytes = await readFile(file);
      const hash = createHash("sha256").update(bytes).digest("base64url").slice(0, 27);
      e = { version, bytes, hash, encoded: new Map() };
      entries.set(file, e);
    }
    return e;
  };
}

/** The bytes for `encoding` (compressed once; identity when compressing does not shrink it). */
function variant(e, encoding) {
  if (encoding === "identity") return Promise.resolve({ encoding, body: e.bytes });
  if (!e.encoded.has(encoding)) {
    e.encoded.set(
      encoding,
      ENCODERS[encoding](e.bytes).then((body) =>
        body.length < e.bytes.length ? { encoding, body } : { encoding: "identity", body: e.bytes },
      ),
    );
  }
  return e.encoded.get(encoding);
}

/** True when an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for it). */
function matches(ifNoneMatch, etag) {
  if (!ifNoneMatch) return false;
  const bare = (t) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || bare(t) === etag);
}

/**
 * Starts the server; resolves to { server, url }. Port 0 picks a free port. `mounts` (URL prefix,
 * folder) pairs, first match wins, default: the package at /pkg/ and the demo at /.
 */
export function serve({ port = 8080, host = "127.0.0.1", mounts } = {}) {
  mounts ??= [
    ["/pkg/", join(root, "pkg")],
    ["/", join(root, "www-demo")],
  ];
  const cache = fileCache();
  const server = createServer(async (req, res) => {
    const file = req.method === "GET" || req.method === "HEAD" ? locate(req.url, mounts) : null;
    let entry;
    try {
      entry = file && (await cache(file));
    } catch {
      entry = null; // removed or unreadable since `locate` saw it
    }
    if (!entry) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const compressible = COMPRESSIBLE.has(extname(file));
    const wanted = compressible ? pickEncoding(req.headers["accept-encoding"]) : "identity";
    const { encoding, body } = await variant(entry, wanted).catch(() => {
      entry.encoded.delete(wanted); // try again next time; send this one uncompressed
      return { encoding: "identity", body: entry.bytes };
    });
    // A strong ETag names one representation: each encoding has its own.
    const etag = `"${entry.hash}${encoding === "identity" ? "" : `-${encoding}`}"`;
    const headers = {
      "content-type": MIME[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-cache",
      etag,
    };
    if (compressible) headers.vary = "Accept-Encoding";
    if (matches(req.headers["if-none-match"], etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    if (encoding !== "identity") headers["content-encoding"] = encoding;
    headers["content-length"] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
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

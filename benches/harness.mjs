// Benchmark harness: run ours and the peer side by side in one process, print one line each:
//   BENCH <name> ours_ms=<x> peer_ms=<y> ratio=<peer/ours>
// Times are the median of `runs` timed runs (after `warmup` untimed ones), in milliseconds per call.
import { readFileSync } from "node:fs";

/** Loads the built package (pkg/, or NEXTCHAT_PKG=/path/to/pkg); run `make pkg` first. */
export async function loadPackage() {
  const dir = process.env.NEXTCHAT_PKG
    ? new URL(`file://${process.env.NEXTCHAT_PKG.replace(/\/?$/, "/")}`)
    : new URL("../pkg/", import.meta.url);
  const m = await import(new URL("nextchat_tavern.js", dir));
  m.initSync({ module: readFileSync(new URL("nextchat_tavern_bg.wasm", dir)) });
  return m;
}

/** Median wall time of one call to fn, in ms. `inner` calls are timed together and divided. */
export function time(fn, { warmup = 3, runs = 15, inner = 1 } = {}) {
  for (let i = 0; i < warmup; i++) for (let j = 0; j < inner; j++) fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < inner; j++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6 / inner);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

const fmt = (ms) => (ms >= 1 ? ms.toFixed(3) : ms.toPrecision(3));

/** Times ours and the peer alternately in one run and prints the BENCH line. */
export function compare(name, ours, peer, opts) {
  // Interleave so that machine noise hits both sides alike.
  const o1 = time(ours, opts), p1 = time(peer, opts);
  const o2 = time(ours, opts), p2 = time(peer, opts);
  const o = Math.min(o1, o2), p = Math.min(p1, p2);
  const line = `BENCH ${name} ours_ms=${fmt(o)} peer_ms=${fmt(p)} ratio=${(p / o).toFixed(2)}`;
  console.log(line);
  return { name, ours_ms: o, peer_ms: p, ratio: p / o };
}

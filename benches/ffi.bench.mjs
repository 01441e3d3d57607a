// Trivial harness check: cost of one call across the JS↔wasm boundary (version(), returns a string)
// against a plain JS function returning the same string. The ratio is < 1: it measures FFI overhead.
import { compare, loadPackage } from "./harness.mjs";

const m = await loadPackage();
const v = m.version();
const peer = () => v.slice(0);
let sink = 0;
compare("ffi_version_call", () => { sink += m.version().length; }, () => { sink += peer().length; }, { inner: 10_000 });
if (sink === 0) throw new Error("unreachable");

// Prints raw and gzip -9 sizes of a file; with --budget-kb N, fails when gzip exceeds N KB.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
const budgetIdx = args.indexOf("--budget-kb");
const budgetKb = budgetIdx >= 0 ? Number(args[budgetIdx + 1]) : null;

const bytes = readFileSync(file);
const gz = gzipSync(bytes, { level: 9 }).length;
const kb = (n) => (n / 1000).toFixed(1);
console.log(`SIZE ${file} raw=${bytes.length} (${kb(bytes.length)} KB) gzip=${gz} (${kb(gz)} KB)`);
if (budgetKb !== null) {
  if (gz > budgetKb * 1000) {
    console.error(`size budget exceeded: gzip ${kb(gz)} KB > ${budgetKb} KB`);
    process.exit(1);
  }
  console.log(`size budget ok: gzip ${kb(gz)} KB <= ${budgetKb} KB`);
}

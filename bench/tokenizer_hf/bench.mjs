// The Hugging Face `tokenizers` library (Rust, through the @anush008/tokenizers node binding) timed on the
// same documents as bench/tokenizer_bench.cc, single-threaded:
//   tokenizer_bench --write-docs /tmp/docs.json
//   RAYON_NUM_THREADS=1 node bench.mjs /tmp/docs.json ../../tests/data/tokenizers
// Reports per-document calls (cold first pass, best warm pass) and one encodeBatch call, and the same id
// checksum as the C++ benchmark so the two can be compared for agreement.
process.env.RAYON_NUM_THREADS ??= "1";  // read by the Rust thread pool when it first starts
import { readFileSync } from "node:fs";
import { Tokenizer } from "@anush008/tokenizers";

const [docsPath, dataDir = "../../tests/data/tokenizers"] = process.argv.slice(2);
if (!docsPath) {
  console.error("usage: node bench.mjs DOCS.json [TOKENIZERS_DIR]");
  process.exit(2);
}
const docs = JSON.parse(readFileSync(docsPath, "utf8"));
const totalBytes = docs.reduce((n, d) => n + Buffer.byteLength(d, "utf8"), 0);
const mbPerS = (ms) => totalBytes / 1e6 / (ms / 1e3);

const results = [];
for (const name of ["deepseek_v3", "qwen3"]) {
  let t = performance.now();
  const tok = Tokenizer.fromFile(`${dataDir}/${name}/tokenizer.json`);
  const loadS = (performance.now() - t) / 1e3;

  let tokens = 0;
  let checksum = 2166136261;
  t = performance.now();
  for (const d of docs) {
    const ids = (await tok.encode(d, null, { addSpecialTokens: false })).getIds();
    tokens += ids.length;
    for (const id of ids) checksum = Math.imul((checksum ^ id) >>> 0, 16777619) >>> 0;
  }
  const coldMs = performance.now() - t;

  let warmMs = Infinity;
  for (let k = 0; k < 3; ++k) {
    t = performance.now();
    for (const d of docs) (await tok.encode(d, null, { addSpecialTokens: false })).getIds();
    warmMs = Math.min(warmMs, performance.now() - t);
  }

  let batchMs = Infinity;
  for (let k = 0; k < 3; ++k) {
    t = performance.now();
    const encs = await tok.encodeBatch(docs, { addSpecialTokens: false });
    for (const e of encs) e.getIds();
    batchMs = Math.min(batchMs, performance.now() - t);
  }
  results.push({ tokenizer: name, load_s: loadS, cold_mb_s: mbPerS(coldMs), warm_mb_s: mbPerS(warmMs),
                 batch_mb_s: mbPerS(batchMs), tokens, checksum });
}

console.log(`HF tokenizers (node binding), RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS}, ` +
            `${docs.length} documents, ${(totalBytes / 1e6).toFixed(2)} MB total`);
console.log("tokenizer      load s    cold MB/s    warm MB/s   batch MB/s     tokens   checksum");
for (const r of results)
  console.log(`${r.tokenizer.padEnd(12)} ${r.load_s.toFixed(3).padStart(8)} ${r.cold_mb_s.toFixed(2).padStart(12)} ` +
              `${r.warm_mb_s.toFixed(2).padStart(12)} ${r.batch_mb_s.toFixed(2).padStart(12)} ` +
              `${String(r.tokens).padStart(10)} ${String(r.checksum).padStart(10)}`);
console.log(JSON.stringify({ bench: "tokenizer_encode_hf", threads: Number(process.env.RAYON_NUM_THREADS),
                             documents: docs.length, total_bytes: totalBytes, results }));

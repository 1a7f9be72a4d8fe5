// The tokenizer twin (bench/run.py): js-tiktoken's GPT-2 encoder, the same files and the same
// output as bench_tokenizer (bench/tokenizer.cpp).
//   node bench/js/tokenizer_bench.mjs [--passes 3] FILE...
// One untimed pass first lets V8 compile the hot code (js-tiktoken keeps no per-word cache, so it
// does not make later passes cheaper otherwise). Special tokens are encoded as plain text, as
// our encode(text) does: encode(text, [], []) rather than the default, which throws on them.
import { readFileSync } from "node:fs";
import { Tiktoken } from "js-tiktoken/lite";
import gpt2 from "js-tiktoken/ranks/gpt2";

const args = process.argv.slice(2);
let passes = 3;
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--passes") passes = Math.max(1, Number(args[++i]));
  else paths.push(args[i]);
}
if (paths.length === 0) {
  console.error("usage: tokenizer_bench.mjs [--passes N] FILE...");
  process.exit(2);
}

const buffers = paths.map((p) => readFileSync(p));
const texts = buffers.map((b) => b.toString("utf8"));
const bytes = buffers.reduce((n, b) => n + b.length, 0);
const enc = new Tiktoken(gpt2);

// FNV-1a over the ids as 32-bit words, as bench_tokenizer computes it.
function hashIds(ids) {
  let h = 2166136261;
  for (const id of ids) h = Math.imul(h ^ id, 16777619) >>> 0;
  return h >>> 0;
}

let ids = texts.map((t) => enc.encode(t, [], []));  // warm-up (JIT)
const seconds = [];
for (let p = 0; p < passes; p++) {
  const start = process.hrtime.bigint();
  ids = texts.map((t) => enc.encode(t, [], []));
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
const files = paths.map((p, f) => ({ path: p, bytes: buffers[f].length, tokens: ids[f].length, hash: hashIds(ids[f]) }));
console.log(JSON.stringify({
  side: "twin",
  impl: "js-tiktoken " + JSON.parse(readFileSync(new URL("./node_modules/js-tiktoken/package.json", import.meta.url))).version,
  node: process.version,
  mb_per_s: bytes / median / 1e6,
  bytes,
  tokens: files.reduce((n, f) => n + f.tokens, 0),
  files,
}));

// Acceptance check for `longcat tokenizer-train`: the Hugging Face tokenizers library (Rust, through the node
// binding pinned in package-lock.json) loads the written tokenizer.json, and on every text below it gives
// the same ids as `longcat tokenize` (with and without --add-special) and the same text as
// `longcat detokenize` (with and without --skip-special); decoding gives back the input.
//   node check_tokenizer.mjs LONGCAT_BINARY TOKENIZER_DIR CORPUS.txt
// Exits 1 on the first few differences (printed), 0 when everything agrees. Works on node 18 and later.
process.env.RAYON_NUM_THREADS ??= "1";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Tokenizer } from "@anush008/tokenizers";

const [binary, dir, corpusPath] = process.argv.slice(2);
if (!binary || !dir || !corpusPath) {
  console.error("usage: node check_tokenizer.mjs LONGCAT_BINARY TOKENIZER_DIR CORPUS.txt");
  process.exit(2);
}

// Stories: the corpus documents, cut as tokenizer-train cuts them.
const texts = readFileSync(corpusPath, "utf8")
  .split("<|endoftext|>")
  .map((d) => d.replace(/^\n+/, "").replace(/[\r\n]+$/, ""))
  .filter((d) => d.length > 0);

// Edge cases: whitespace runs, contractions, digits, unicode of every width, controls, special-token strings.
texts.push(
  "", " ", "  ", "\n", "\n\n\n", "\t", " \t \n ", "trailing space ", "  two leading", "a  b   c    d",
  "line one\nline two\r\nline three\r", "don't you'll I'm we've they're she'd it's", "DON'T 'tis o'clock",
  "1 12 123 1234 12345 3.14159 -42 1e10 0x1F 2024-01-31 6:45",
  "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m e\u0301 a\u030a",
  "\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \ud55c\uad6d\uc5b4",
  "\u0416\u0438\u0437\u043d\u044c \u03a9\u03bc\u03ad\u03b3\u03b1 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u0928\u092e\u0938\u094d\u0924\u0947",
  "emoji \ud83d\ude00\ud83d\ude80 family \ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 flag \ud83c\uddeb\ud83c\uddf7 heart \u2764\ufe0f skin \ud83d\udc4d\ud83c\udffd",
  "\u00a0nbsp\u2009thin\u3000ideographic\u205fmath\u0085next\u2028sep", "zero\u200bwidth\ufeffbom",
  "\u0000nul\u0001\u0007bell\u001b[31mred\u007f", "\ud800\udc00 \u{10FFFF} \u{1D7CE}",
  "a".repeat(300), " ".repeat(50) + "x", "!".repeat(40), "ab".repeat(100), "\u00e9".repeat(80),
  "<longcat_s>Once upon a time</longcat_s>", "<longcat_unk><longcat_pad><longcat_s></longcat_s>",
  '<longcat_tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</longcat_tool_call>',
  "text<longcat_s>glued</longcat_s>text", " <longcat_s> spaced </longcat_s> ", "<longcat_s", "longcat_s>", "</longcat_",
  "<|endoftext|>", "story one\n<|endoftext|>\nstory two", "<<longcat_s>>", "SYSTEM:Be brief. [Round 0] USER:hi ASSISTANT:",
);

// Random strings from a fixed seed (mulberry32), mixing the pools above.
let seed = 20241125;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pools = [
  [..."the cat sat on a mat and ran home"], [" ", " ", " ", "\t", "\n", "\r\n", "\u00a0", "\u3000"],
  [..."0123456789.,!?'\"-()<>/|_"], ["\u00e9", "\u00fc", "\u4e2d", "\u6587", "\u0416", "\ud83d\ude00", "\u200d", "\ufe0f", "\u0301"],
  ["'s", "'ll", "'re", "<longcat_s>", "</longcat_s>", "<longcat_tool_call>", "<|endoftext|>", "<longcat"],
];
for (let i = 0; i < 150; ++i) {
  let s = "";
  const n = Math.floor(random() * 40);
  for (let k = 0; k < n; ++k) {
    const pool = pools[Math.floor(random() * pools.length)];
    s += pool[Math.floor(random() * pool.length)];
  }
  texts.push(s);
}

function longcat(args, input) {
  return execFileSync(binary, args, { input: Buffer.from(input, "utf8"), maxBuffer: 1 << 26 }).toString("utf8");
}
const hasSpecial = (t) => t.includes("<longcat") || t.includes("</longcat");

const hf = Tokenizer.fromFile(`${dir}/tokenizer.json`);
let failures = 0, tokens = 0, checks = 0;
function differ(what, text, ours, theirs) {
  if (++failures <= 5)
    console.error(`MISMATCH ${what} for ${JSON.stringify(text).slice(0, 200)}\n  longcat: ${JSON.stringify(ours).slice(0, 300)}\n  HF:      ${JSON.stringify(theirs).slice(0, 300)}`);
}

for (const [i, text] of texts.entries()) {
  const ours = JSON.parse(longcat(["tokenize", "--tokenizer", dir], text));
  const theirs = Array.from((await hf.encode(text, null, { addSpecialTokens: false })).getIds());
  tokens += theirs.length;
  ++checks;
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ("ids", text, ours, theirs);
  if (i < 40 || hasSpecial(text)) {
    const oursSpecial = JSON.parse(longcat(["tokenize", "--tokenizer", dir, "--add-special"], text));
    const theirsSpecial = Array.from((await hf.encode(text, null, { addSpecialTokens: true })).getIds());
    ++checks;
    if (JSON.stringify(oursSpecial) !== JSON.stringify(theirsSpecial)) differ("ids --add-special", text, oursSpecial, theirsSpecial);
  }
  const ids = JSON.stringify(theirs);
  const decoded = await hf.decode(theirs, false);
  ++checks;
  if (decoded !== text) differ("HF decode(encode(x)) == x", text, text, decoded);
  if (theirs.length > 0) {
    const ourText = longcat(["detokenize", "--tokenizer", dir], ids);
    ++checks;
    if (ourText !== decoded) differ("detokenize", text, ourText, decoded);
    if (hasSpecial(text)) {
      const ourSkip = longcat(["detokenize", "--tokenizer", dir, "--skip-special"], ids);
      const theirSkip = await hf.decode(theirs, true);
      ++checks;
      if (ourSkip !== theirSkip) differ("detokenize --skip-special", text, ourSkip, theirSkip);
    }
  }
}

console.log(`${dir}: ${texts.length} texts, ${tokens} tokens, ${checks} comparisons, ${failures} differences`);
process.exit(failures ? 1 : 0);

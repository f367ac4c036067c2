// Reference ids for agreement checks: encodes every string of a JSON array with the Hugging Face library and
// writes {"<tokenizer>": [[ids]...], "<tokenizer>_dec": [decode(ids)...]} for each fixture tokenizer.
//   node encode_texts.mjs TEXTS.json OUT.json [TOKENIZERS_DIR]
process.env.RAYON_NUM_THREADS ??= "1";
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer } from "@anush008/tokenizers";

const [textsPath, outPath, dataDir = "../../tests/data/tokenizers"] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const out = {};
for (const name of ["deepseek_v3", "qwen3"]) {
  const tok = Tokenizer.fromFile(`${dataDir}/${name}/tokenizer.json`);
  out[name] = [];
  out[`${name}_dec`] = [];
  for (const t of texts) {
    const ids = (await tok.encode(t, null, { addSpecialTokens: false })).getIds();
    out[name].push(ids);
    out[`${name}_dec`].push(await tok.decode(ids, false));
  }
}
writeFileSync(outPath, JSON.stringify(out));

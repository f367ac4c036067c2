// Writes the e2e fixture's tokenizer.json to stdout: the byte-level vocabulary of tests/test_util.cc's
// tiny_tokenizer_json() (LongCat specials at 0..3, the 256 bytes at 4..259; the tiny models have 512 ids),
// plus one added, non-special token (id 300) whose text is a whole tool-call block, so a test can make the
// random-weight model "call a tool" with logit_bias {"300": 100} and max_tokens 1.
export const TOOL_CALL_TOKEN = 300;
export const TOOL_CALL_TEXT =
  '<longcat_tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</longcat_tool_call>';

function byteToChar() {
  const printable = (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table = [];
  let extra = 0;
  for (let b = 0; b < 256; ++b) table.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return table;
}

export function tokenizerJson() {
  const vocab = {};
  const added = [];
  const specials = ['<unk>', '<longcat_s>', '</longcat_s>', '<longcat_pad>'];
  const entry = (id, content, special) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special,
  });
  specials.forEach((s, i) => {
    vocab[s] = i;
    added.push(entry(i, s, true));
  });
  byteToChar().forEach((c, b) => { vocab[c] = 4 + b; });
  vocab[TOOL_CALL_TEXT] = TOOL_CALL_TOKEN;
  added.push(entry(TOOL_CALL_TOKEN, TOOL_CALL_TEXT, false));
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab, merges: [],
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(JSON.stringify(tokenizerJson()));

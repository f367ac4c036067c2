// What `longcat tokenizer-train` writes: a Hugging Face tokenizer.json around a trained byte-level BPE and a
// tokenizer_config.json with the LongCat special tokens and chat template (docs/tokenizer.md). Both are
// produced as strings with a fixed key order, so the same training gives byte-identical files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/bpe_trainer.h"

namespace longcat::tokenizer {

struct AddedTokenSpec {
  std::string content;
  bool special = true;  // special tokens are dropped by decode(..., skip_special)
};

// The LongCat added tokens, ids 0.. in this order: <longcat_unk>, <longcat_s> (bos), </longcat_s> (eos),
// <longcat_pad>, then the tool-call markers of chat_format.h. The markers are added tokens (always one id,
// never split) but not special: generation decodes with skip_special, and parse_tool_calls must see them.
const std::vector<AddedTokenSpec>& longcat_added_tokens();

// The pre-tokenizer object of the written file (ByteLevel with the GPT-2 split, no prefix space). The trainer
// pre-tokenizes with this same object, so training and encoding cut text identically.
const char* byte_level_pre_tokenizer_json();

struct TokenizerFileOptions {
  bool bos_template = false;          // post-processor prepends bos when special tokens are requested
  int64_t model_max_length = 131072;  // tokenizer_config.json: the longest input the model is meant for
};

// `added` follows the layout of longcat_added_tokens(): unk, bos, eos, pad first, then any others.
// tokenizer.json: added tokens get ids 0..added.size()-1, then the 256 bytes, then the merge results.
std::string tokenizer_json(const BpeTrainingResult& bpe, const std::vector<AddedTokenSpec>& added,
                           const TokenizerFileOptions& options);

// tokenizer_config.json for transformers: token names, model_max_length, the chat template.
std::string tokenizer_config_json(const std::vector<AddedTokenSpec>& added, const TokenizerFileOptions& options);

// A Jinja chat template that renders what render_chat (chat_format.h) renders, for messages with roles
// system/user/assistant/tool and OpenAI-style `tools`.
const char* longcat_chat_template();

}  // namespace longcat::tokenizer

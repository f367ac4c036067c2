#include "tokenizer/tokenizer_json_writer.h"

#include <nlohmann/json.hpp>

#include <unordered_set>

#include "tokenizer/byte_level.h"
#include "tokenizer/chat_format.h"
#include "util/error.h"

namespace longcat::tokenizer {

namespace {

using Ordered = nlohmann::ordered_json;

// Renders like render_chat: "SYSTEM:{system} " only with a system message or tools, "[Round r] USER:" per
// round, a second user-side turn in a row joined with "\n", assistant turns closed by </longcat_s>. Every tag
// trims the whitespace around it, so the line breaks below are not part of the output. Tool lines are the
// JSON object with sorted keys and no spaces, as nlohmann::json::dump writes it (transformers' tojson takes
// these arguments).
constexpr const char* kChatTemplate = R"JINJA(
{%- set ns = namespace(system='', has_system=false, first=0, round=0, awaiting=false, tools='') -%}
{%- if messages and messages[0]['role'] == 'system' -%}
  {%- set ns.system = messages[0]['content'] -%}
  {%- set ns.has_system = true -%}
  {%- set ns.first = 1 -%}
{%- endif -%}
{%- if tools is defined and tools -%}
  {%- set ns.tools = 'You can call the following tools. Each tool is described as a JSON object:\n' -%}
  {%- for tool in tools -%}
    {%- set f = tool['function'] if tool['function'] is defined else tool -%}
    {%- set spec = {'description': f['description'] if f['description'] is defined else '', 'name': f['name'], 'parameters': f['parameters'] if f['parameters'] is defined else {}} -%}
    {%- set ns.tools = ns.tools + (spec | tojson(separators=(',', ':'), sort_keys=true)) + '\n' -%}
  {%- endfor -%}
  {%- set ns.tools = ns.tools + 'To call a tool, reply with <longcat_tool_call>{"name": <tool name>, "arguments": <arguments as a JSON object>}</longcat_tool_call>.' -%}
  {%- set ns.system = ns.system + '\n\n' + ns.tools if ns.has_system and ns.system else ns.tools -%}
  {%- set ns.has_system = true -%}
{%- endif -%}
{%- if ns.has_system -%}
  {{- 'SYSTEM:' + ns.system + ' ' -}}
{%- endif -%}
{%- for message in messages[ns.first:] -%}
  {%- if message['role'] == 'user' or message['role'] == 'tool' -%}
    {%- if ns.awaiting -%}
      {{- '\n' + message['content'] -}}
    {%- else -%}
      {{- (' ' if ns.round > 0 else '') + '[Round ' + (ns.round | string) + '] USER:' + message['content'] -}}
      {%- set ns.awaiting = true -%}
    {%- endif -%}
  {%- elif message['role'] == 'assistant' -%}
    {%- if not ns.awaiting -%}
      {{- (' ' if ns.round > 0 else '') + '[Round ' + (ns.round | string) + '] USER:' -}}
    {%- endif -%}
    {{- ' ASSISTANT:' + message['content'] + '</longcat_s>' -}}
    {%- set ns.round = ns.round + 1 -%}
    {%- set ns.awaiting = false -%}
  {%- elif message['role'] == 'system' -%}
    {{- raise_exception('a system message must come first') -}}
  {%- else -%}
    {{- raise_exception('unknown role ' + message['role']) -}}
  {%- endif -%}
{%- endfor -%}
{%- if ns.awaiting and add_generation_prompt -%}
  {{- ' ASSISTANT:' -}}
{%- endif -%}
)JINJA";

Ordered added_token_object(const AddedTokenSpec& t, int id = -1) {
  Ordered o;
  if (id >= 0) o["id"] = id;
  o["content"] = t.content;
  o["single_word"] = false;
  o["lstrip"] = false;
  o["rstrip"] = false;
  o["normalized"] = false;  // matched in the raw text
  o["special"] = t.special;
  return o;
}

std::string byte_level_string(const std::string& bytes) {
  std::string s;
  byte_level::encode_bytes(bytes, s);
  return s;
}

Ordered bos_template(const std::string& bos, int bos_id) {
  auto special = [&](int type_id) { return Ordered{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}}; };
  auto sequence = [](const char* id, int type_id) { return Ordered{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
  Ordered p;
  p["type"] = "TemplateProcessing";
  p["single"] = Ordered::array({special(0), sequence("A", 0)});
  p["pair"] = Ordered::array({special(0), sequence("A", 0), special(1), sequence("B", 1)});
  p["special_tokens"][bos] = {{"id", bos}, {"ids", {bos_id}}, {"tokens", {bos}}};
  return p;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

// The "model" member at nesting level 1: vocab in id order (added tokens first, as the Hugging Face trainer
// writes them, then bytes and merge results), merges as "left right" strings (byte-level tokens never hold
// a space, and every tokenizers version reads this form).
std::string model_json(const BpeTrainingResult& bpe, const std::vector<AddedTokenSpec>& added) {
  std::vector<std::string> names(bpe.tokens.size());
  for (size_t i = 0; i < bpe.tokens.size(); ++i) names[i] = byte_level_string(bpe.tokens[i]);
  std::unordered_set<std::string> seen;
  std::string out =
      "{\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
      "    \"unk_token\": null,\n"  // every byte is in the vocabulary: nothing is ever unknown
      "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
      "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
      "    \"vocab\": {";
  int id = 0;
  auto add_entry = [&](const std::string& name) {
    if (!seen.insert(name).second) throw Error("two vocabulary entries are both '" + name + "'", "model.vocab");
    out += (id ? ",\n      " : "\n      ") + quoted(name) + ": " + std::to_string(id);
    ++id;
  };
  for (const AddedTokenSpec& t : added) add_entry(t.content);
  for (const std::string& name : names) add_entry(name);
  out += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < bpe.merges.size(); ++i)
    out += (i ? ",\n      " : "\n      ") + quoted(names[bpe.merges[i].first] + " " + names[bpe.merges[i].second]);
  out += bpe.merges.empty() ? "]\n  }" : "\n    ]\n  }";
  return out;
}

}  // namespace

const std::vector<AddedTokenSpec>& longcat_added_tokens() {
  static const std::vector<AddedTokenSpec> tokens = {
      {"<longcat_unk>", true}, {"<longcat_s>", true},   {"</longcat_s>", true},
      {"<longcat_pad>", true}, {kToolCallOpen, false}, {kToolCallClose, false},
  };
  return tokens;
}

const char* byte_level_pre_tokenizer_json() {
  return R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true})";
}

const char* longcat_chat_template() { return kChatTemplate + 1; }  // without the leading line break

std::string tokenizer_json(const BpeTrainingResult& bpe, const std::vector<AddedTokenSpec>& added,
                           const TokenizerFileOptions& options) {
  Ordered j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  Ordered added_list = Ordered::array();
  for (size_t i = 0; i < added.size(); ++i) added_list.push_back(added_token_object(added[i], static_cast<int>(i)));
  j["added_tokens"] = std::move(added_list);
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = Ordered::parse(byte_level_pre_tokenizer_json());
  j["post_processor"] = options.bos_template ? bos_template(added.at(1).content, 1) : Ordered(nullptr);
  j["decoder"] = Ordered::parse(byte_level_pre_tokenizer_json());
  j["model"] = "MODEL";
  std::string out = j.dump(2);
  // The model object is written by hand: nlohmann's ordered objects look keys up linearly, which is
  // quadratic for a 131,072-entry vocabulary. Same layout as dump(2).
  const std::string placeholder = "\"MODEL\"";
  out.replace(out.rfind(placeholder), placeholder.size(), model_json(bpe, added));
  return out + "\n";
}

std::string tokenizer_config_json(const std::vector<AddedTokenSpec>& added, const TokenizerFileOptions& options) {
  Ordered j;
  j["add_bos_token"] = options.bos_template;
  j["add_eos_token"] = false;
  Ordered decoder = Ordered::object();
  for (size_t i = 0; i < added.size(); ++i) decoder[std::to_string(i)] = added_token_object(added[i]);
  j["added_tokens_decoder"] = std::move(decoder);
  j["bos_token"] = added.at(1).content;
  j["chat_template"] = longcat_chat_template();
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = added.at(2).content;
  j["model_max_length"] = options.model_max_length;
  j["pad_token"] = added.at(3).content;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = added.at(0).content;
  return j.dump(2) + "\n";
}

}  // namespace longcat::tokenizer

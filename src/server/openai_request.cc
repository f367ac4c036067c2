#include "server/openai_request.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat::server {

namespace {

using json = nlohmann::json;

json parse_body(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw bad_request(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw bad_request("the request body must be a JSON object");
  return j;
}

// The field, or null when absent or JSON null (both mean "use the default").
const json* field(const json& j, const std::string& name) {
  auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string fmt(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

double number(const json& j, const std::string& name, double lo, double hi, double fallback) {
  const json* v = field(j, name);
  if (!v) return fallback;
  if (!v->is_number()) throw bad_request("'" + name + "' must be a number", name);
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi))
    throw bad_request("'" + name + "' must be between " + fmt(lo) + " and " + fmt(hi) + ", got " + fmt(x), name);
  return x;
}

std::optional<int64_t> integer(const json& j, const std::string& name, int64_t lo, int64_t hi) {
  const json* v = field(j, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) throw bad_request("'" + name + "' must be an integer", name);
  const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
  if (x < lo || x > hi)
    throw bad_request("'" + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(x),
                      name);
  return x;
}

bool boolean(const json& j, const std::string& name, bool fallback) {
  const json* v = field(j, name);
  if (!v) return fallback;
  if (!v->is_boolean()) throw bad_request("'" + name + "' must be a boolean", name);
  return v->get<bool>();
}

std::string string(const json& j, const std::string& name, const std::string& where) {
  const json* v = field(j, name);
  if (!v) return {};
  if (!v->is_string()) throw bad_request("'" + where + "' must be a string", where);
  return v->get<std::string>();
}

std::vector<int32_t> token_ids(const json& a, const std::string& where) {
  std::vector<int32_t> ids;
  for (const json& x : a) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX)
      throw bad_request("'" + where + "' must hold non-negative integer token ids", where);
    ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
  }
  return ids;
}

// Fields shared by both endpoints.
void parse_common(const json& j, ApiRequest& r) {
  if (const json* m = field(j, "model")) {
    if (!m->is_string()) throw bad_request("'model' must be a string", "model");
    r.model = m->get<std::string>();
  }
  RequestParams& p = r.params;
  p.sampling.temperature = static_cast<float>(number(j, "temperature", 0, 2, 1.0));
  p.sampling.top_p = static_cast<float>(number(j, "top_p", 0, 1, 1.0));
  p.sampling.min_p = static_cast<float>(number(j, "min_p", 0, 1, 0.0));
  p.sampling.top_k = static_cast<int>(std::max<int64_t>(0, integer(j, "top_k", -1, INT32_MAX).value_or(0)));
  p.sampling.repeat_penalty = static_cast<float>(number(j, "repetition_penalty", 1e-3, 100, 1.0));
  p.presence_penalty = static_cast<float>(number(j, "presence_penalty", -2, 2, 0));
  p.frequency_penalty = static_cast<float>(number(j, "frequency_penalty", -2, 2, 0));
  if (auto seed = integer(j, "seed", INT64_MIN, INT64_MAX)) p.sampling.seed = static_cast<uint64_t>(*seed);
  else p.random_seed = true;
  p.n = static_cast<int>(integer(j, "n", 1, kMaxChoices).value_or(1));
  p.ignore_eos = boolean(j, "ignore_eos", false);
  if (auto m = integer(j, "max_tokens", 1, INT32_MAX)) r.max_tokens = static_cast<int>(*m);
  if (const json* s = field(j, "stop")) {
    if (s->is_string()) {
      p.stops = {s->get<std::string>()};
    } else if (s->is_array() && s->size() <= static_cast<size_t>(kMaxStops)) {
      for (const json& x : *s) {
        if (!x.is_string()) throw bad_request("'stop' must be a string or an array of strings", "stop");
        p.stops.push_back(x.get<std::string>());
      }
    } else {
      throw bad_request("'stop' must be a string or an array of at most " + std::to_string(kMaxStops) + " strings",
                        "stop");
    }
    for (const auto& s1 : p.stops)
      if (s1.empty()) throw bad_request("'stop' strings must not be empty", "stop");
  }
  if (const json* bias = field(j, "logit_bias")) {
    if (!bias->is_object()) throw bad_request("'logit_bias' must be an object of token id -> bias", "logit_bias");
    for (const auto& [key, value] : bias->items()) {
      size_t used = 0;
      long id = -1;
      try {
        id = std::stol(key, &used);
      } catch (const std::exception&) {
      }
      if (used != key.size() || id < 0 || id > INT32_MAX)
        throw bad_request("'logit_bias' keys must be token ids, got '" + key + "'", "logit_bias");
      if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100)
        throw bad_request("'logit_bias' values must be numbers between -100 and 100", "logit_bias");
      p.logit_bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
    }
  }
  r.stream = boolean(j, "stream", false);
  if (const json* so = field(j, "stream_options")) {
    if (!so->is_object()) throw bad_request("'stream_options' must be an object", "stream_options");
    r.include_usage = boolean(*so, "include_usage", false);
  }
}

tokenizer::ChatMessage parse_message(const json& m, size_t i) {
  const std::string at = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) throw bad_request("'" + at + "' must be an object", at);
  tokenizer::ChatMessage msg;
  if (!field(m, "role")) throw bad_request("'" + at + ".role' is required", at + ".role");
  msg.role = string(m, "role", at + ".role");
  if (msg.role == "developer") msg.role = "system";  // the newer name of the system role
  if (const json* c = field(m, "content")) {
    if (c->is_string()) {
      msg.content = c->get<std::string>();
    } else if (c->is_array()) {
      for (size_t k = 0; k < c->size(); ++k) {
        const json& part = (*c)[k];
        const std::string pat = at + ".content[" + std::to_string(k) + "]";
        if (!part.is_object() || string(part, "type", pat + ".type") != "text" || !field(part, "text"))
          throw bad_request("only text content parts are supported", pat);
        msg.content += string(part, "text", pat + ".text");
      }
    } else {
      throw bad_request("'" + at + ".content' must be a string or an array of text parts", at + ".content");
    }
  }
  // An assistant turn that called tools is shown to the model as the blocks it wrote.
  if (const json* calls = field(m, "tool_calls")) {
    if (!calls->is_array()) throw bad_request("'" + at + ".tool_calls' must be an array", at + ".tool_calls");
    for (size_t k = 0; k < calls->size(); ++k) {
      const std::string cat = at + ".tool_calls[" + std::to_string(k) + "]";
      const json* fn = (*calls)[k].is_object() ? field((*calls)[k], "function") : nullptr;
      if (!fn || !fn->is_object()) throw bad_request("'" + cat + ".function' is required", cat + ".function");
      nlohmann::ordered_json call = {{"name", string(*fn, "name", cat + ".function.name")},
                                     {"arguments", nlohmann::ordered_json::object()}};
      const std::string args = string(*fn, "arguments", cat + ".function.arguments");
      if (!args.empty()) {
        call["arguments"] = nlohmann::ordered_json::parse(args, nullptr, false);
        if (call["arguments"].is_discarded())
          throw bad_request("'" + cat + ".function.arguments' is not valid JSON", cat + ".function.arguments");
      }
      msg.content += std::string(tokenizer::kToolCallOpen) + call.dump() + tokenizer::kToolCallClose;
    }
  }
  return msg;
}

std::vector<tokenizer::ToolSpec> parse_tools(const json& j) {
  std::vector<tokenizer::ToolSpec> tools;
  const json* t = field(j, "tools");
  if (!t) return tools;
  if (!t->is_array()) throw bad_request("'tools' must be an array", "tools");
  for (size_t i = 0; i < t->size(); ++i) {
    const std::string at = "tools[" + std::to_string(i) + "]";
    const json& tool = (*t)[i];
    const json* fn = tool.is_object() ? field(tool, "function") : nullptr;
    if (!fn || !fn->is_object()) throw bad_request("'" + at + ".function' is required", at + ".function");
    if (tool.contains("type") && string(tool, "type", at + ".type") != "function")
      throw bad_request("only tools of type 'function' are supported", at + ".type");
    tokenizer::ToolSpec spec;
    spec.name = string(*fn, "name", at + ".function.name");
    if (spec.name.empty()) throw bad_request("'" + at + ".function.name' is required", at + ".function.name");
    spec.description = string(*fn, "description", at + ".function.description");
    if (const json* params = field(*fn, "parameters")) {
      if (!params->is_object()) throw bad_request("'" + at + ".function.parameters' must be an object", at + ".function.parameters");
      spec.parameters = *params;
    }
    tools.push_back(std::move(spec));
  }
  if (const json* choice = field(j, "tool_choice"); choice && choice->is_string() && choice->get<std::string>() == "none")
    tools.clear();
  return tools;
}

}  // namespace

ApiRequest parse_chat_request(const std::string& body) {
  const json j = parse_body(body);
  ApiRequest r;
  r.chat = true;
  parse_common(j, r);
  if (auto m = integer(j, "max_completion_tokens", 1, INT32_MAX)) r.max_tokens = static_cast<int>(*m);
  const json* msgs = field(j, "messages");
  if (!msgs) throw bad_request("'messages' is required", "messages");
  if (!msgs->is_array() || msgs->empty()) throw bad_request("'messages' must be a non-empty array", "messages");
  for (size_t i = 0; i < msgs->size(); ++i) r.messages.push_back(parse_message((*msgs)[i], i));
  r.tools = parse_tools(j);
  r.logprobs = boolean(j, "logprobs", false);
  const auto top = integer(j, "top_logprobs", 0, kMaxTopLogprobs);
  if (top && !r.logprobs) throw bad_request("'top_logprobs' needs 'logprobs' set to true", "top_logprobs");
  if (r.logprobs) r.params.top_logprobs = static_cast<int>(top.value_or(0));
  return r;
}

ApiRequest parse_completion_request(const std::string& body) {
  const json j = parse_body(body);
  ApiRequest r;
  parse_common(j, r);
  const json* p = field(j, "prompt");
  if (!p) throw bad_request("'prompt' is required", "prompt");
  const std::string one = "only one prompt per request is supported";
  if (p->is_string()) {
    r.prompt_text = p->get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
    r.prompt_ids = token_ids(*p, "prompt");
    r.prompt_is_ids = true;
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt_text = (*p)[0].get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_array()) {
    r.prompt_ids = token_ids((*p)[0], "prompt");
    r.prompt_is_ids = true;
  } else if (p->is_array() && p->size() > 1) {
    throw bad_request(one, "prompt");
  } else {
    throw bad_request("'prompt' must be a string or an array of token ids", "prompt");
  }
  r.echo = boolean(j, "echo", false);
  if (!string(j, "suffix", "suffix").empty()) throw bad_request("'suffix' is not supported", "suffix");
  if (auto lp = integer(j, "logprobs", 0, 5)) {
    r.logprobs = true;
    r.params.top_logprobs = static_cast<int>(*lp);
  }
  return r;
}

}  // namespace longcat::server

#include "tokenizer/post_processors.h"

namespace longcat::tokenizer {

namespace {

class Identity : public PostProcessor {
 public:
  void process(std::vector<int>&) const override {}
};

// A fixed list of pieces: special-token ids, and the sequence itself (marked by an empty `ids`).
class Template : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;
    std::vector<int> ids;
  };
  explicit Template(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}
  void process(std::vector<int>& ids) const override {
    std::vector<int> out;
    out.reserve(ids.size() + 4);
    for (const Piece& p : pieces_) {
      if (p.is_sequence)
        out.insert(out.end(), ids.begin(), ids.end());
      else
        out.insert(out.end(), p.ids.begin(), p.ids.end());
    }
    ids = std::move(out);
  }

 private:
  std::vector<Piece> pieces_;
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(std::vector<int>& ids) const override {
    for (const auto& p : parts_) p->process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

std::unique_ptr<PostProcessor> make_template(const Json& spec, const std::string& where) {
  const Json& single = get_array(spec, "single", where);
  const Json& specials = require_field(spec, "special_tokens", where);
  std::vector<Template::Piece> pieces;
  for (size_t i = 0; i < single.size(); ++i) {
    std::string iwhere = field_path(where, "single[" + std::to_string(i) + "]");
    const Json& item = single[i];
    if (has_value(item, "Sequence")) {
      pieces.push_back({true, {}});
    } else if (has_value(item, "SpecialToken")) {
      std::string name = get_string(item.at("SpecialToken"), "id", field_path(iwhere, "SpecialToken"));
      if (!specials.is_object() || !specials.contains(name))
        throw Error("template names special token '" + name + "' that special_tokens does not define", iwhere);
      std::string swhere = field_path(where, "special_tokens." + name);
      const Json& ids = get_array(specials.at(name), "ids", swhere);
      Template::Piece p{false, {}};
      for (const Json& id : ids) {
        if (!id.is_number_integer()) throw Error("expected integer ids", field_path(swhere, "ids"));
        p.ids.push_back(id.get<int>());
      }
      pieces.push_back(std::move(p));
    } else {
      throw Error("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}", iwhere);
    }
  }
  return std::make_unique<Template>(std::move(pieces));
}

// RobertaProcessing/BertProcessing: `cls` and `sep` are [token, id] pairs around the sequence.
std::unique_ptr<PostProcessor> make_cls_sep(const Json& spec, const std::string& where) {
  auto id_of = [&](const char* key) {
    const Json& v = require_field(spec, key, where);
    if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer())
      throw Error("expected [\"token\", id]", field_path(where, key));
    return v[1].get<int>();
  };
  std::vector<Template::Piece> pieces = {{false, {id_of("cls")}}, {true, {}}, {false, {id_of("sep")}}};
  return std::make_unique<Template>(std::move(pieces));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  std::string type = component_type(spec, where);
  if (type == "ByteLevel") return std::make_unique<Identity>();
  if (type == "TemplateProcessing") return make_template(spec, where);
  if (type == "RobertaProcessing" || type == "BertProcessing") return make_cls_sep(spec, where);
  if (type == "Sequence") {
    const Json& list = get_array(spec, "processors", where);
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = make_post_processor(list[i], field_path(where, "processors[" + std::to_string(i) + "]"));
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw Error("unsupported post-processor type '" + type + "'", field_path(where, "type"));
}

}  // namespace longcat::tokenizer

// tokenizer.json `post_processor`: what `add_special_tokens` adds around an encoded sequence. Supported
// types: TemplateProcessing (the `single` template), ByteLevel (ids unchanged: it only trims offsets),
// RobertaProcessing, BertProcessing, Sequence. Only single sequences are encoded here, never pairs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace longcat::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(std::vector<int>& ids) const = 0;
};

// Null JSON gives nullptr. Throws longcat::Error naming `where` for unknown types or a template that names a
// special token it does not define.
std::unique_ptr<PostProcessor> make_post_processor(const Json& spec, const std::string& where);

}  // namespace longcat::tokenizer

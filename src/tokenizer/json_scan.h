// A minimal forward-only JSON reader for the two big arrays of a tokenizer.json (model.vocab and
// model.merges: ~90% of a 10 MB file). A general DOM parser spends most of a second building and freeing
// nodes for them; this reads them straight into the BPE tables, and hands every other (small) value to
// nlohmann::json as a raw text span.
#pragma once
#include <string>
#include <string_view>

namespace longcat::tokenizer {

class JsonScanner {
 public:
  // `source` names the document in errors.
  JsonScanner(std::string_view text, std::string source) : s_(text), source_(std::move(source)) {}

  void skip_ws();
  bool at_end();
  // Consumes `c` (after whitespace) or throws; try_consume reports instead of throwing.
  void expect(char c);
  bool try_consume(char c);
  char peek();
  // A JSON string, unescaped into out.
  void read_string(std::string& out);
  long long read_integer();
  // Skips one value of any type and returns its raw text.
  std::string_view skip_value();
  [[noreturn]] void fail(const std::string& what) const;
  size_t position() const { return pos_; }

 private:
  void skip_string();
  std::string_view s_;
  size_t pos_ = 0;
  std::string source_;
};

}  // namespace longcat::tokenizer

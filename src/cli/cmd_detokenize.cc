// `longcat detokenize --tokenizer PATH [--ids CSV | stdin JSON array] [--skip-special]`: prints the text of
// the ids (docs/cli.md), exactly as decoded: no newline is added.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace longcat::cli {

namespace {

std::vector<int> ids_from_stdin() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  nlohmann::json j = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) throw UsageError("expected a JSON array of token ids", "stdin");
  std::vector<int> ids;
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 0x7fffffff)
      throw UsageError("token ids must be non-negative integers", "stdin");
    ids.push_back(v.get<int>());
  }
  return ids;
}

}  // namespace

int cmd_detokenize(int argc, char** argv) {
  CLI::App app{"Decode token ids to text with a Hugging Face tokenizer.json.", "detokenize"};
  std::string path, csv;
  bool skip_special = false;
  app.add_option("--tokenizer", path, "tokenizer.json or a folder holding one")->required();
  auto* ids_opt = app.add_option("--ids", csv, "comma-separated ids (default: a JSON array on stdin)");
  app.add_flag("--skip-special", skip_special, "leave special tokens out of the text");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    std::vector<int> ids = ids_opt->count() ? parse_id_list(csv, "--ids") : ids_from_stdin();
    auto tok = tokenizer::Tokenizer::load(path);
    std::string text = tok.decode(ids, skip_special);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  });
}

}  // namespace longcat::cli

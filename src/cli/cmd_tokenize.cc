// `longcat tokenize --tokenizer PATH [--text T] [--add-special] [--json]`: prints the ids of the text as one
// JSON array (docs/cli.md). Without --text, all of stdin is the text, byte for byte.
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

int cmd_tokenize(int argc, char** argv) {
  CLI::App app{"Encode text to token ids with a Hugging Face tokenizer.json; prints one JSON array of ids.",
               "tokenize"};
  std::string path, text;
  bool add_special = false, json = false;
  app.add_option("--tokenizer", path, "tokenizer.json or a folder holding one")->required();
  auto* text_opt = app.add_option("--text", text, "text to encode (default: all of stdin, verbatim)");
  app.add_flag("--add-special", add_special, "apply the tokenizer's post-processor (e.g. prepend bos)");
  app.add_flag("--json", json, "JSON output (the array of ids is already JSON; accepted for uniformity)");
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    auto tok = tokenizer::Tokenizer::load(path);
    if (!text_opt->count()) {
      std::cin >> std::noskipws;
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      if (std::cin.bad()) throw Error("cannot read standard input", "stdin");
    }
    std::vector<int> ids = tok.encode(text, add_special);
    std::string out = nlohmann::json(ids).dump();
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  });
}

}  // namespace longcat::cli

// `longcat tokenizer-train --data FILE --out DIR [--vocab-size N]`: trains a byte-level BPE on UTF-8 text
// (documents separated by <|endoftext|> lines) and writes DIR/tokenizer.json and DIR/tokenizer_config.json
// with the LongCat special tokens (docs/tokenizer.md, "Training a tokenizer").
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_json_writer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace longcat::cli {

namespace {

namespace fs = std::filesystem;

std::string read_data(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("no such file", path);
  if (!fs::is_regular_file(path, ec)) throw Error("not a regular file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open data file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read data file", path);
  return ss.str();
}

// Creates the folder and proves it writable before the training time is spent.
void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw Error("the output path is not a folder", dir);
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create the output folder: " + ec.message(), dir);
  const fs::path probe = fs::path(dir) / ".tokenizer-train-probe.tmp";
  {
    std::ofstream f(probe);
    if (!f) throw Error("the output folder is not writable", dir);
  }
  fs::remove(probe, ec);
}

// Writes through a temporary file and a rename, so an interrupted run never leaves half a tokenizer.json.
void write_file(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out.flush()) throw Error("cannot write file", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("cannot write file: " + ec.message(), path.string());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int cmd_tokenizer_train(int argc, char** argv) {
  CLI::App app{"Train a byte-level BPE tokenizer on UTF-8 text (documents separated by <|endoftext|> lines) and "
               "write a Hugging Face tokenizer.json and tokenizer_config.json with the LongCat special tokens.",
               "tokenizer-train"};
  std::string data_path, out_dir;
  int vocab_size = 4096, threads = 1;
  int64_t min_frequency = 2, model_max_length = 131072;
  bool bos_template = false, quiet = false, json = false;
  app.add_option("--data", data_path, "training text, UTF-8; <|endoftext|> lines separate documents")->required();
  app.add_option("--out", out_dir, "output folder (created; tokenizer.json and tokenizer_config.json replaced)")
      ->required();
  app.add_option("--vocab-size", vocab_size, "ids in total: added tokens + 256 bytes + merges")->capture_default_str();
  app.add_option("--min-frequency", min_frequency, "stop merging when the best pair occurs fewer times")
      ->capture_default_str();
  app.add_flag("--bos-template", bos_template,
               "post-processor that prepends <longcat_s> when special tokens are requested (tokenize --add-special); "
               "default off");
  app.add_option("--model-max-length", model_max_length, "model_max_length in tokenizer_config.json")
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress on stderr (default off)");
  app.add_flag("--json", json, "print the summary as one JSON object (default off)");
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    const auto& added = tokenizer::longcat_added_tokens();
    const int min_vocab = 256 + static_cast<int>(added.size());
    if (vocab_size < min_vocab)
      throw UsageError("must be at least " + std::to_string(min_vocab) + " (256 bytes + " +
                           std::to_string(added.size()) + " added tokens)",
                       "--vocab-size");
    if (min_frequency < 1) throw UsageError("must be at least 1", "--min-frequency");
    if (model_max_length < 1) throw UsageError("must be at least 1", "--model-max-length");
    prepare_output_dir(out_dir);

    const auto t0 = std::chrono::steady_clock::now();
    const std::string text = read_data(data_path);
    if (size_t bad = tokenizer::utf8::find_invalid(text); bad != std::string::npos)
      throw Error("invalid UTF-8 at byte offset " + std::to_string(bad), data_path);
    const std::vector<std::string_view> docs = tokenizer::split_documents(text);
    std::vector<std::string> reserved;
    for (const auto& t : added) reserved.push_back(t.content);
    std::vector<std::string_view> texts;
    for (std::string_view doc : docs) tokenizer::cut_out_reserved(doc, reserved, texts);
    if (texts.empty()) throw Error("no training text (the file is empty or holds only separators)", data_path);

    const auto pre = tokenizer::make_pre_tokenizer(
        tokenizer::Json::parse(tokenizer::byte_level_pre_tokenizer_json()), "pre_tokenizer");
    const std::vector<tokenizer::WordCount> words = tokenizer::count_words(texts, *pre);
    int64_t total_words = 0;
    for (const auto& w : words) total_words += w.count;
    if (!quiet)
      std::fprintf(stderr, "tokenizer-train: %zu documents, %.2f MB, %lld words (%zu distinct) in %.2f s\n",
                   docs.size(), text.size() / 1e6, static_cast<long long>(total_words), words.size(),
                   seconds_since(t0));

    tokenizer::BpeTrainerOptions options;
    options.target_tokens = vocab_size - static_cast<int>(added.size());
    options.min_frequency = min_frequency;
    const int planned = options.target_tokens - 256;
    if (!quiet)
      options.on_progress = [&](int merges, int64_t last_count) {
        std::fprintf(stderr, "tokenizer-train: %d/%d merges (last pair seen %lld times), %.2f s\n", merges, planned,
                     static_cast<long long>(last_count), seconds_since(t0));
      };
    const tokenizer::BpeTrainingResult bpe = tokenizer::train_bpe(words, options);
    const int final_vocab = static_cast<int>(added.size() + bpe.tokens.size());
    if (final_vocab < vocab_size)
      std::fprintf(stderr,
                   "warning: the vocabulary has %d ids, not %d: no pair occurs --min-frequency=%lld times any more\n",
                   final_vocab, vocab_size, static_cast<long long>(min_frequency));

    tokenizer::TokenizerFileOptions file_options;
    file_options.bos_template = bos_template;
    file_options.model_max_length = model_max_length;
    const fs::path dir(out_dir);
    write_file(dir / "tokenizer.json", tokenizer::tokenizer_json(bpe, added, file_options));
    write_file(dir / "tokenizer_config.json", tokenizer::tokenizer_config_json(added, file_options));

    const double seconds = seconds_since(t0);
    if (json) {
      nlohmann::json summary = {{"tokenizer", (dir / "tokenizer.json").string()},
                                {"vocab_size", final_vocab},
                                {"added_tokens", added.size()},
                                {"merges", bpe.merges.size()},
                                {"documents", docs.size()},
                                {"words", total_words},
                                {"distinct_words", words.size()},
                                {"seconds", seconds}};
      std::printf("%s\n", summary.dump().c_str());
    } else {
      std::printf("wrote %s and tokenizer_config.json: %d ids (%zu added tokens, 256 bytes, %zu merges) in %.2f s\n",
                  (dir / "tokenizer.json").string().c_str(), final_vocab, added.size(), bpe.merges.size(), seconds);
    }
    return 0;
  });
}

}  // namespace longcat::cli

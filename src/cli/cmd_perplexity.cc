// `longcat perplexity`: mean negative log-likelihood and perplexity of a token stream under the model, in
// non-overlapping windows of --ctx tokens (each window a fresh sequence; its first token is context only).
// Data: a .u32 file of little-endian token ids, or text tokenized with the model folder's tokenizer.json.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "model/longcat_model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace longcat::cli {

namespace {
std::vector<int32_t> read_ids(const std::string& data, const std::string& model_dir) {
  std::ifstream in(data, std::ios::binary);
  if (!in) throw Error("cannot open data file", data);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  std::vector<int32_t> ids;
  if (data.size() >= 4 && data.compare(data.size() - 4, 4, ".u32") == 0) {
    if (bytes.size() % 4 != 0) throw Error("size is not a multiple of 4 bytes (.u32 token ids)", data);
    for (size_t i = 0; i < bytes.size(); i += 4) {
      uint32_t v = 0;
      for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[i + k]);
      ids.push_back(static_cast<int32_t>(v));
    }
    return ids;
  }
  if (!std::filesystem::exists(model_dir + "/tokenizer.json"))
    throw Error("text data needs a tokenizer.json in the model folder (or give token ids as a .u32 file)", model_dir);
  auto tok = tokenizer::Tokenizer::load(model_dir);
  for (int id : tok.encode(bytes, true)) ids.push_back(id);
  return ids;
}
}  // namespace

int cmd_perplexity(int argc, char** argv) {
  CLI::App app("Mean negative log-likelihood and perplexity of a text or token-id file under the model.", "perplexity");
  std::string model_dir, data;
  int ctx = 512, threads;
  bool json = false;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--data", data, ".u32 little-endian token ids, or text (needs the model's tokenizer.json)")->required();
  app.add_option("--ctx", ctx, "tokens per window")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  app.add_flag("--json", json, "one JSON object on stdout");
  add_threads_option(app, &threads);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    auto model = LongcatModel::load(model_dir, false);
    const std::vector<int32_t> ids = read_ids(data, model_dir);
    model->check_ids(ids.data(), static_cast<int64_t>(ids.size()), data);
    if (ids.size() < 2) throw Error("needs at least 2 tokens", data);
    const int64_t V = model->config().vocab_size;
    double nll = 0;
    int64_t scored = 0, windows = 0;
    for (size_t start = 0; start + 1 < ids.size(); start += ctx) {
      const int64_t S = std::min<int64_t>(ctx, static_cast<int64_t>(ids.size() - start));
      if (S < 2) break;
      const std::vector<int64_t> pos = consecutive_positions(0, S);
      SequenceCaches caches = model->new_caches();
      ForwardOutput out = model->forward(caches, ids.data() + start, pos.data(), S);
      for (int64_t i = 0; i + 1 < S; ++i) {
        const float* row = out.logits.data() + i * V;
        double m = row[0];
        for (int64_t v = 1; v < V; ++v) m = std::max(m, static_cast<double>(row[v]));
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - m);
        nll += m + std::log(sum) - row[ids[start + i + 1]];
        ++scored;
      }
      ++windows;
      std::fprintf(stderr, "\rperplexity: window %lld, %lld tokens, running ppl %.4f", static_cast<long long>(windows),
                   static_cast<long long>(scored), std::exp(nll / scored));
    }
    std::fprintf(stderr, "\n");
    const double mean = nll / scored;
    if (json) {
      nlohmann::ordered_json j = {{"tokens_scored", scored}, {"windows", windows}, {"ctx", ctx},
                                  {"mean_nll", mean}, {"perplexity", std::exp(mean)}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("tokens scored %lld in %lld windows of <= %d\nmean NLL %.6f nats\nperplexity %.4f\n",
                  static_cast<long long>(scored), static_cast<long long>(windows), ctx, mean, std::exp(mean));
    }
    return 0;
  });
}

}  // namespace longcat::cli

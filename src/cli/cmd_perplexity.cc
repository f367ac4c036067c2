// `longcat perplexity`: mean negative log-likelihood and perplexity of a token stream under the model, in
// non-overlapping windows of --ctx tokens (each window a fresh sequence; its first token is context only).
// Data: a .u32 file of little-endian token ids, or text tokenized with the model folder's tokenizer.json the way
// the trainer reads it (documents split at <|endoftext|> lines, eos after each), so the figures match training's
// held-out loss. Also measures what the demo model's card reports: the MTP head's teacher-forced agreement with
// the main model, and real (FFN) experts per token — their histogram and which tokens use fewer or more.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_common.h"
#include "cli/command.h"
#include "kernels/ops.h"
#include "model/longcat_model.h"
#include "tokenizer/tokenizer.h"
#include "train/data_loader.h"
#include "util/error.h"

namespace longcat::cli {

namespace {
std::vector<int32_t> read_ids(const std::string& data, const std::string& model_dir, const ModelConfig& cfg) {
  if (data.size() >= 4 && data.compare(data.size() - 4, 4, ".u32") == 0)
    return train::load_token_stream(data, "", cfg.eos_token_id, static_cast<int>(cfg.vocab_size));
  if (!std::filesystem::exists(model_dir + "/tokenizer.json"))
    throw Error("text data needs a tokenizer.json in the model folder (or give token ids as a .u32 file)", model_dir);
  return train::load_token_stream(data, model_dir, cfg.eos_token_id, static_cast<int>(cfg.vocab_size));
}

// Real experts per token, summed over layers: histogram and per input token.
struct ExpertUse {
  std::vector<int64_t> histogram;
  std::map<int32_t, std::pair<int64_t, int64_t>> by_token;  // id -> (occurrences, real experts summed)
  int64_t tokens = 0, total = 0;
  void add(int32_t id, int real) {
    if (static_cast<size_t>(real) >= histogram.size()) histogram.resize(real + 1, 0);
    ++histogram[real];
    auto& e = by_token[id];
    ++e.first;
    e.second += real;
    ++tokens;
    total += real;
  }
  // The `n` frequent tokens (at least `min_count` occurrences) with the lowest or highest mean.
  std::vector<std::pair<int32_t, double>> extremes(size_t n, int64_t min_count, bool lowest) const {
    std::vector<std::pair<int32_t, double>> v;
    for (const auto& [id, e] : by_token)
      if (e.first >= min_count) v.push_back({id, static_cast<double>(e.second) / e.first});
    std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      return lowest ? a.second < b.second : a.second > b.second;
    });
    if (v.size() > n) v.resize(n);
    return v;
  }
};
}  // namespace

int cmd_perplexity(int argc, char** argv) {
  CLI::App app("Mean negative log-likelihood and perplexity of a text or token-id file under the model.", "perplexity");
  std::string model_dir, data;
  int ctx = 512, threads;
  bool json = false, mtp = false;
  int top_tokens = 10;
  app.add_option("--model", model_dir, "Hugging Face style model folder")->required();
  app.add_option("--data", data, ".u32 little-endian token ids, or text (needs the model's tokenizer.json)")->required();
  app.add_option("--ctx", ctx, "tokens per window")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  app.add_flag("--mtp", mtp, "also the MTP head: top-1 agreement with the main model's next-next token (teacher-forced)");
  app.add_option("--top-tokens", top_tokens, "tokens listed with the fewest / most real experts (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", json, "one JSON object on stdout");
  add_threads_option(app, &threads);
  bool no_mmap = false;
  add_no_mmap_option(app, &no_mmap);
  if (int rc = parse_or_exit(app, argc, argv); rc >= 0) return rc;
  return run_guarded([&] {
    apply_threads(threads);
    apply_no_mmap(no_mmap);
    auto model = LongcatModel::load(model_dir, false);
    const std::vector<int32_t> ids = read_ids(data, model_dir, model->config());
    model->check_ids(ids.data(), static_cast<int64_t>(ids.size()), data);
    if (ids.size() < 2) throw Error("needs at least 2 tokens", data);
    if (mtp && !model->has_mtp()) throw Error("the model has no MTP head", model_dir + " (--mtp)");
    const int64_t V = model->config().vocab_size;
    double nll = 0;
    int64_t scored = 0, windows = 0, mtp_slots = 0, mtp_agree = 0, mtp_correct = 0;
    ExpertUse experts;
    for (size_t start = 0; start + 1 < ids.size(); start += ctx) {
      const int64_t S = std::min<int64_t>(ctx, static_cast<int64_t>(ids.size() - start));
      if (S < 2) break;
      const int32_t* w = ids.data() + start;
      const std::vector<int64_t> pos = consecutive_positions(0, S);
      SequenceCaches caches = model->new_caches();
      ForwardOutput out = model->forward(caches, w, pos.data(), S);
      for (int64_t i = 0; i < S; ++i) experts.add(w[i], out.real_experts[i]);
      for (int64_t i = 0; i + 1 < S; ++i) {
        const float* row = out.logits.data() + i * V;
        double m = row[0];
        for (int64_t v = 1; v < V; ++v) m = std::max(m, static_cast<double>(row[v]));
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - m);
        nll += m + std::log(sum) - row[w[i + 1]];
        ++scored;
      }
      if (mtp && S >= 3) {
        // Slot i pairs the hidden state at i with the true token i+1 and predicts token i+2; the main model's
        // own prediction of i+2 (given the true tokens up to i+1) is the argmax of logits row i+1.
        std::vector<float> mtp_logits = model->mtp_forward(caches, w + 1, out.hidden_final.data(), pos.data(), S - 1);
        for (int64_t i = 0; i + 2 < S; ++i) {
          const int64_t drafted = argmax(mtp_logits.data() + i * V, V);
          mtp_agree += drafted == argmax(out.logits.data() + (i + 1) * V, V);
          mtp_correct += drafted == w[i + 2];
          ++mtp_slots;
        }
      }
      ++windows;
      std::fprintf(stderr, "\rperplexity: window %lld, %lld tokens, running ppl %.4f", static_cast<long long>(windows),
                   static_cast<long long>(scored), std::exp(nll / scored));
    }
    std::fprintf(stderr, "\n");
    const double mean = nll / scored;
    const double experts_mean = static_cast<double>(experts.total) / experts.tokens;
    std::unique_ptr<tokenizer::Tokenizer> tok;
    if (std::filesystem::exists(model_dir + "/tokenizer.json"))
      tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(model_dir));
    auto token_text = [&](int32_t id) { return tok ? tok->decode({id}) : std::to_string(id); };
    auto extremes_json = [&](bool lowest) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (const auto& [id, m] : experts.extremes(top_tokens, 20, lowest))
        a.push_back({{"id", id}, {"text", token_text(id)}, {"count", experts.by_token.at(id).first}, {"real_experts", m}});
      return a;
    };
    nlohmann::ordered_json j = {{"tokens_scored", scored}, {"windows", windows}, {"ctx", ctx},
                                {"mean_nll", mean}, {"perplexity", std::exp(mean)},
                                {"real_experts_per_token", experts_mean},
                                {"real_experts_per_token_per_layer", experts_mean / model->config().num_layers},
                                {"real_experts_histogram", experts.histogram}};
    if (top_tokens > 0) {
      j["fewest_real_experts"] = extremes_json(true);
      j["most_real_experts"] = extremes_json(false);
    }
    if (mtp) {
      j["mtp_slots"] = mtp_slots;
      j["mtp_top1_agreement"] = mtp_slots ? static_cast<double>(mtp_agree) / mtp_slots : 0.0;
      j["mtp_top1_accuracy"] = mtp_slots ? static_cast<double>(mtp_correct) / mtp_slots : 0.0;
    }
    if (json) {
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    std::printf("tokens scored %lld in %lld windows of <= %d\nmean NLL %.6f nats\nperplexity %.4f\n",
                static_cast<long long>(scored), static_cast<long long>(windows), ctx, mean, std::exp(mean));
    std::printf("real experts per token %.3f (%.3f per layer); histogram (summed over layers):", experts_mean,
                experts_mean / model->config().num_layers);
    for (size_t k = 0; k < experts.histogram.size(); ++k)
      std::printf(" %zu:%lld", k, static_cast<long long>(experts.histogram[k]));
    std::printf("\n");
    if (mtp)
      std::printf("MTP head: top-1 agreement with the main model's next-next token %.4f, top-1 accuracy %.4f (%lld slots)\n",
                  j["mtp_top1_agreement"].get<double>(), j["mtp_top1_accuracy"].get<double>(),
                  static_cast<long long>(mtp_slots));
    for (bool lowest : {true, false}) {
      if (top_tokens <= 0) break;
      std::printf("%s real experts (tokens seen >= 20 times):", lowest ? "fewest" : "most");
      for (const auto& e : extremes_json(lowest))
        std::printf(" %s %.2f;", nlohmann::json(e["text"].get<std::string>()).dump().c_str(), e["real_experts"].get<double>());
      std::printf("\n");
    }
    return 0;
  });
}

}  // namespace longcat::cli

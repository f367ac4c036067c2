// `longcat perplexity` against the NLL computed here from the model's logits, and its input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/longcat_model.h"
#include "test_util.h"

namespace longcat {
namespace {

using testing::model_path;
using testing::run_longcat;

TEST(Perplexity, MatchesNllFromTheModelsLogits) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(4 + (i * 53) % 500);
  const std::string data = ::testing::TempDir() + "ppl_" + std::to_string(getpid()) + ".u32";
  {
    std::ofstream out(data, std::ios::binary);
    for (int32_t id : ids)
      for (int k = 0; k < 4; ++k) out.put(static_cast<char>((static_cast<uint32_t>(id) >> (8 * k)) & 0xff));
  }
  auto r = run_longcat("perplexity --model " + model_path("tiny") + " --data " + data + " --ctx 30 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);

  auto model = LongcatModel::load(model_path("tiny"), false);
  std::vector<int64_t> pos(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) pos[i] = static_cast<int64_t>(i);
  SequenceCaches caches = model->new_caches();
  auto logits = model->forward(caches, ids.data(), pos.data(), static_cast<int64_t>(ids.size())).logits;
  const int64_t V = model->config().vocab_size;
  double nll = 0;
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    double z = 0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(double(logits[i * V + v]));
    nll += std::log(z) - logits[i * V + ids[i + 1]];
  }
  nll /= double(ids.size() - 1);
  EXPECT_EQ(j["tokens_scored"], 29);
  EXPECT_NEAR(j["mean_nll"].get<double>(), nll, 1e-6 * std::fabs(nll));
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(nll), 1e-5 * std::exp(nll));

  // Real experts: the histogram covers every token, its mean is the reported mean.
  auto hist = j["real_experts_histogram"].get<std::vector<int64_t>>();
  int64_t count = 0, sum = 0;
  for (size_t k = 0; k < hist.size(); ++k) count += hist[k], sum += hist[k] * static_cast<int64_t>(k);
  EXPECT_EQ(count, 30);
  EXPECT_NEAR(j["real_experts_per_token"].get<double>(), double(sum) / 30, 1e-12);

  // MTP agreement, recomputed here: slot i drafts token i+2 from the hidden state at i and token i+1.
  auto m = run_longcat("perplexity --model " + model_path("tiny") + " --data " + data + " --ctx 30 --mtp --json");
  ASSERT_EQ(m.status, 0) << m.err;
  auto jm = nlohmann::json::parse(m.out);
  SequenceCaches c2 = model->new_caches();
  auto out = model->forward(c2, ids.data(), pos.data(), 30);
  auto mtp = model->mtp_forward(c2, ids.data() + 1, out.hidden_final.data(), pos.data(), 29);
  auto argmax = [&](const float* row) { return std::max_element(row, row + V) - row; };
  int agree = 0;
  for (int i = 0; i + 2 < 30; ++i) agree += argmax(&mtp[i * V]) == argmax(&out.logits[(i + 1) * V]);
  EXPECT_EQ(jm["mtp_slots"], 28);
  EXPECT_NEAR(jm["mtp_top1_agreement"].get<double>(), agree / 28.0, 1e-12);
  std::remove(data.c_str());
}

TEST(Perplexity, TextWithoutTokenizerAndMissingFilesAreErrors) {
  auto r = run_longcat("perplexity --model " + model_path("tiny") + " --data " + model_path("tiny") + "/config.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos);
  EXPECT_EQ(run_longcat("perplexity --model " + model_path("tiny") + " --data /nonexistent.u32").status, 1);
  EXPECT_EQ(run_longcat("perplexity --model " + model_path("tiny")).status, 2);
}

}  // namespace
}  // namespace longcat

// Rejection sampling keeps the target distribution. First on explicit distributions (draft d ~ q, keep with
// min(1, p/q), else redraw from the residual: the result is distributed as p), then end to end: on a random
// 6-token-vocabulary model, the first three generated tokens with MTP speculation (1 and 2 drafts per step,
// plain temperature and the full processing: top-k, top-p, min-p, repeat penalty) follow the exact joint
// distribution of plain sampling, computed from the model's logits. Chi-square goodness of fit, cells with an
// expected count below 5 pooled; every run is seeded, so the statistics are reproducible.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "model/longcat_model.h"
#include "runtime/generation.h"
#include "runtime/speculative_sampling.h"
#include "test_util.h"
#include "train/param_table.h"
#include "train/train_checkpoint.h"
#include "util/thread_pool.h"

namespace longcat {
namespace {

namespace fs = std::filesystem;

struct ChiSquare {
  double statistic = 0;
  int dof = 0;
  double p_value = 1;
};

// Upper tail of the chi-square distribution by the Wilson-Hilferty cube-root normal approximation (relative
// error well under 1% of the tail at the degrees of freedom used here).
double chi_square_tail(double x, int dof) {
  const double k = dof, z = (std::cbrt(x / k) - (1 - 2 / (9 * k))) / std::sqrt(2 / (9 * k));
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

ChiSquare goodness_of_fit(const std::vector<double>& probs, const std::vector<int64_t>& counts) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  ChiSquare r;
  double pooled_expected = 0, pooled_observed = 0;
  int cells = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double e = probs[i] * n;
    if (e < 5) {
      pooled_expected += e;
      pooled_observed += counts[i];
      continue;
    }
    r.statistic += (counts[i] - e) * (counts[i] - e) / e;
    ++cells;
  }
  if (pooled_expected > 0) {
    r.statistic += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  r.dof = cells - 1;
  r.p_value = chi_square_tail(r.statistic, r.dof);
  return r;
}

TokenDistribution dist(std::vector<int32_t> ids, std::vector<double> probs) {
  TokenDistribution d;
  d.ids = std::move(ids);
  d.probs = std::move(probs);
  d.mass = 0;
  for (double p : d.probs) d.mass += p;
  return d;
}

TEST(SpeculativeSampling, KeptOrRedrawnTokenIsDistributedAsTarget) {
  // p is a truncated target (mass 0.9, as after top-p); q disagrees, puts mass where p has none, misses id 4.
  const TokenDistribution p = dist({2, 0, 4, 1}, {0.4, 0.3, 0.15, 0.05});
  const TokenDistribution q = dist({0, 3, 2, 1}, {0.5, 0.25, 0.2, 0.05});
  SamplingParams sp;
  sp.temperature = 1;
  sp.seed = 7;
  Sampler sampler(sp);
  RejectionSampler rs;
  std::vector<int64_t> counts(5, 0);
  for (int i = 0; i < 200000; ++i) {
    const int32_t d = sampler.draw(q);
    const int32_t t = rs.accept(p, q, d, sampler.rng()) ? d : rs.draw_residual(p, q, sampler.rng());
    ++counts[t];
  }
  std::vector<double> expected(5);
  for (int id = 0; id < 5; ++id) expected[id] = p.prob(id);
  EXPECT_EQ(counts[3], 0);  // outside p's support
  counts.erase(counts.begin() + 3);
  expected.erase(expected.begin() + 3);
  const ChiSquare c = goodness_of_fit(expected, counts);
  std::printf("[ speculative ] explicit p, q: chi-square %.2f, %d dof, p-value %.3f\n", c.statistic, c.dof, c.p_value);
  EXPECT_GT(c.p_value, 1e-3);
}

TEST(SpeculativeSampling, GreedyIsExactMatchWithoutRandomness) {
  const TokenDistribution p = dist({5}, {1.0}), q_same = dist({5}, {1.0}), q_other = dist({3}, {1.0});
  std::mt19937_64 rng(1), untouched(1);
  RejectionSampler rs;
  EXPECT_TRUE(rs.accept(p, q_same, 5, rng));
  EXPECT_FALSE(rs.accept(p, q_other, 3, rng));
  EXPECT_EQ(rs.draw_residual(p, q_other, rng), 5);
  EXPECT_EQ(rng(), untouched());
}

// A random model with a 6-token vocabulary (so the joint of three tokens has 216 cells) and a different,
// untrained MTP head: its drafts disagree with the target often, so both acceptance and rejection paths run.
const std::string& small_vocab_model() {
  static const std::string dir = [] {
    const std::string d = ::testing::TempDir() + "/longcat_spec_sampling_" + std::to_string(getpid());
    fs::remove_all(d);
    fs::create_directories(d);
    ModelConfig c = testing::small_model_config();
    c.num_layers = 1;
    c.vocab_size = 6;
    c.bos_token_id = 1;
    c.eos_token_id = 2;
    c.pad_token_id = 3;
    const train::ParamLayout layout = train::ParamLayout::build(c);
    train::write_model_files(d, c, layout, train::init_params<float>(layout, 11, 0.5, 1.0), DType::F32, {});
    return d;
  }();
  return dir;
}

// Exact probability of every sequence of `n` next tokens under plain sampling with `sp`, index = base-V digits.
std::vector<double> exact_joint(const LongcatModel& model, const std::vector<int32_t>& prompt, const SamplingParams& sp,
                                int n) {
  const int64_t V = model.config().vocab_size;
  std::vector<double> probs(1, 1.0);
  std::vector<std::vector<int32_t>> prefixes(1);
  Sampler sampler(sp);
  TokenDistribution d;
  for (int step = 0; step < n; ++step) {
    std::vector<double> next_probs;
    std::vector<std::vector<int32_t>> next_prefixes;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      std::vector<int32_t> history = prompt;
      history.insert(history.end(), prefixes[i].begin(), prefixes[i].end());
      SequenceCaches caches = model.new_caches();
      const std::vector<int64_t> pos = consecutive_positions(0, history.size());
      ForwardOutput out = model.forward(caches, history.data(), pos.data(), history.size());
      sampler.distribution(out.logits.data() + (history.size() - 1) * V, V, history, &d);
      for (int32_t t = 0; t < V; ++t) {
        next_probs.push_back(probs[i] * d.prob(t));
        next_prefixes.push_back(prefixes[i]);
        next_prefixes.back().push_back(t);
      }
    }
    probs = std::move(next_probs);
    prefixes = std::move(next_prefixes);
  }
  return probs;
}

ChiSquare speculative_fit(const LongcatModel& model, const SamplingParams& base, int draft_tokens, int runs,
                          SpeculativeStats* total) {
  const std::vector<int32_t> prompt = {1, 4, 0};
  const int n = 3;
  const int64_t V = model.config().vocab_size;
  std::vector<int64_t> counts(V * V * V, 0);
  for (int r = 0; r < runs; ++r) {
    GenerationOptions o;
    o.sampling = base;
    o.sampling.seed = 1000 + r;
    o.max_new_tokens = n;
    o.ignore_eos = true;
    o.speculative = SpeculativeOptions{draft_tokens};
    GenerationResult g = generate(model, prompt, o, [](int32_t, int) { return true; });
    EXPECT_EQ(g.ids.size(), 3u);
    ++counts[(g.ids[0] * V + g.ids[1]) * V + g.ids[2]];
    for (int j = 0; j < draft_tokens; ++j) {
      total->verified[j] += g.speculative->verified[j];
      total->accepted[j] += g.speculative->accepted[j];
    }
  }
  return goodness_of_fit(exact_joint(model, prompt, base, n), counts);
}

TEST(SpeculativeSampling, FirstTokensFollowPlainSamplingDistribution) {
  // One thread: thousands of tiny forwards, where waking a second thread costs more than it saves.
  ThreadPool::set_global_threads(1);
  constexpr int kRuns = 5000;
  auto model = LongcatModel::load(small_vocab_model(), false);
  SamplingParams plain;
  plain.temperature = 1.0f;
  SamplingParams processed;
  processed.temperature = 1.3f;
  processed.top_k = 5;
  processed.top_p = 0.95f;
  processed.min_p = 0.03f;
  processed.repeat_penalty = 1.3f;
  struct Case {
    const char* name;
    SamplingParams sp;
    int k;
  } cases[] = {{"temperature 1, k 1", plain, 1}, {"temperature 1, k 2", plain, 2}, {"processed, k 2", processed, 2}};
  for (const Case& c : cases) {
    SpeculativeStats st;
    st.verified.assign(c.k, 0);
    st.accepted.assign(c.k, 0);
    const ChiSquare fit = speculative_fit(*model, c.sp, c.k, kRuns, &st);
    std::printf("[ speculative ] %s: chi-square %.1f, %d dof, p-value %.3f; acceptance", c.name, fit.statistic,
                fit.dof, fit.p_value);
    for (int j = 0; j < c.k; ++j)
      std::printf(" %.3f (%lld/%lld)", st.acceptance_rate(j), static_cast<long long>(st.accepted[j]),
                  static_cast<long long>(st.verified[j]));
    std::printf("\n");
    EXPECT_GT(fit.p_value, 1e-3) << c.name;
    // Both paths ran: some drafts kept, some rejected.
    EXPECT_GT(st.acceptance_rate(0), 0.05) << c.name;
    EXPECT_LT(st.acceptance_rate(0), 0.95) << c.name;
  }
  ThreadPool::set_global_threads(hardware_threads());
}

}  // namespace
}  // namespace longcat

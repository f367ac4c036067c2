// Self-speculative decoding with the MTP head: the target's logits do not depend on whether a token was
// verified in a group or after a rollback (bitwise); greedy output with speculation is token-for-token the
// output without it, on the random fixtures and on a model whose MTP head was trained here (where most drafts
// must be accepted); eos inside a run of accepted drafts, token budgets and batching behave as plain decoding.
// The sampling case (rejection sampling keeps the target distribution) is speculative_sampling_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/longcat_model.h"
#include "model/mtp_forward_batch.h"
#include "runtime/generation.h"
#include "runtime/speculative.h"
#include "test_util.h"
#include "train/trainer.h"

namespace longcat {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> test_prompt(int n, int vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(4 + (i * 37 + 11) % (vocab - 4));
  return ids;
}

GenerationResult greedy(const LongcatModel& model, const std::vector<int32_t>& prompt, int n, int draft_tokens) {
  GenerationOptions o;
  o.sampling.temperature = 0;
  o.max_new_tokens = n;
  o.ignore_eos = true;
  if (draft_tokens > 0) o.speculative = SpeculativeOptions{draft_tokens};
  return generate(model, prompt, o, [](int32_t, int) { return true; });
}

bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// The property speculation relies on: a verification group [x, d1, d2, d3] gives each row the logits that
// one-token decode steps give, and after truncating the rejected rows the caches continue as if the rejected
// tokens had never been fed. The same holds for the MTP head and its cache.
TEST(Speculative, GroupedVerificationAndRollbackAreBitwise) {
  for (const char* name : {"tiny", "tiny-fp8", "tiny-topk1"}) {
    auto model = LongcatModel::load(testing::model_path(name), false);
    const int64_t V = model->config().vocab_size, H = model->config().hidden_size;
    const std::vector<int32_t> prompt = test_prompt(9, V);
    const int64_t P = prompt.size();
    // Reference: the prompt then tokens a, b, c one decode step at a time.
    const int32_t a = 17, b = 200 % V, c = 45, wrong1 = 99, wrong2 = 290 % V;
    SequenceCaches ref = model->new_caches();
    std::vector<int64_t> pos = consecutive_positions(0, P);
    ForwardOutput ref_prompt = model->forward(ref, prompt.data(), pos.data(), P);
    std::vector<ForwardOutput> ref_steps;
    for (int32_t t : {a, b, c}) {
      int64_t p = ref.tokens();
      ref_steps.push_back(model->forward(ref, &t, &p, 1));
    }
    // Speculative: [a, b, wrong1, wrong2] in one group, keep 2, then [c].
    SequenceCaches spec = model->new_caches();
    model->forward(spec, prompt.data(), pos.data(), P);
    const int32_t group[4] = {a, b, wrong1, wrong2};
    const std::vector<int64_t> gpos = consecutive_positions(P, 4);
    ForwardOutput g = model->forward(spec, group, gpos.data(), 4);
    EXPECT_TRUE(same_bits(g.logits.data(), ref_steps[0].logits.data(), V)) << name;
    EXPECT_TRUE(same_bits(g.logits.data() + V, ref_steps[1].logits.data(), V)) << name;
    EXPECT_TRUE(same_bits(g.hidden_final.data() + H, ref_steps[1].hidden_final.data(), H)) << name;
    EXPECT_EQ(g.real_experts[1], ref_steps[1].real_experts[0]) << name;
    spec.truncate(P + 2);
    int64_t p = P + 2;
    int32_t t = c;
    ForwardOutput after = model->forward(spec, &t, &p, 1);
    EXPECT_TRUE(same_bits(after.logits.data(), ref_steps[2].logits.data(), V)) << name << ": after rollback";

    // MTP: slots 0..P+1 at once vs a prefix, a provisional slot, a rollback and the rest.
    std::vector<float> hidden = ref_prompt.hidden_final;
    for (const auto& s : ref_steps) hidden.insert(hidden.end(), s.hidden_final.begin(), s.hidden_final.end());
    std::vector<int32_t> next(prompt.begin() + 1, prompt.end());
    next.insert(next.end(), {a, b, c});
    const int64_t M = P + 2;  // slots whose next token is known, up to b -> c
    SequenceCaches m1 = model->new_caches(), m2 = model->new_caches();
    const std::vector<int64_t> mpos = consecutive_positions(0, M);
    std::vector<float> whole = model->mtp_forward(m1, next.data(), hidden.data(), mpos.data(), M);
    model->mtp_forward(m2, next.data(), hidden.data(), mpos.data(), P);
    int64_t q = P;
    model->mtp_forward(m2, &wrong1, hidden.data(), &q, 1);  // provisional (a chained draft), rolled back
    m2.mtp.truncate(P);
    std::vector<float> rest = model->mtp_forward(m2, next.data() + P, hidden.data() + P * H, mpos.data() + P, 2);
    EXPECT_TRUE(same_bits(whole.data() + P * V, rest.data(), 2 * V)) << name << ": MTP after rollback";
  }
}

// Drafting for several sequences at once: the batched MTP forward gives each item the last-slot logits and
// hidden state of mtp_forward run on it alone, bit for bit, and leaves each MTP cache as the single run does.
TEST(Speculative, BatchedMtpForwardIsBitwiseTheSingleOne) {
  for (const char* name : {"tiny", "tiny-fp8"}) {
    auto model = LongcatModel::load(testing::model_path(name), false);
    const int64_t V = model->config().vocab_size, H = model->config().hidden_size;
    const std::vector<int64_t> lengths = {9, 3, 14};
    std::vector<SequenceCaches> alone, batched;
    std::vector<std::vector<int32_t>> next;
    std::vector<std::vector<float>> hidden;
    std::vector<std::vector<int64_t>> pos;
    for (int64_t L : lengths) {
      std::vector<int32_t> ids = test_prompt(static_cast<int>(L) + 1, V);
      ids[0] = static_cast<int32_t>(4 + L);  // distinct sequences
      SequenceCaches c = model->new_caches();
      pos.push_back(consecutive_positions(0, L));
      hidden.push_back(model->forward(c, ids.data(), pos.back().data(), L).hidden_final);
      next.emplace_back(ids.begin() + 1, ids.end());
      alone.push_back(model->new_caches());
      batched.push_back(model->new_caches());
    }
    std::vector<MtpBatchItem> items;
    for (size_t i = 0; i < lengths.size(); ++i)
      items.push_back({&batched[i], next[i].data(), hidden[i].data(), pos[i].data(), lengths[i]});
    MtpBatchOutput out = mtp_forward_batch(*model, items);
    for (size_t i = 0; i < lengths.size(); ++i) {
      std::vector<float> h;
      std::vector<float> logits = model->mtp_forward(alone[i], next[i].data(), hidden[i].data(), pos[i].data(), lengths[i], &h);
      const int64_t last = lengths[i] - 1;
      EXPECT_TRUE(same_bits(&out.logits[i * V], &logits[last * V], V)) << name << " item " << i;
      EXPECT_TRUE(same_bits(&out.hidden_last[i * H], &h[last * H], H)) << name << " item " << i;
      EXPECT_EQ(batched[i].mtp.size(), lengths[i]);
    }
    // A chained slot on top, batched vs alone: the caches written above must agree too.
    std::vector<int32_t> chained_ids = {17, 33, 99};
    std::vector<int64_t> chained_pos(lengths.begin(), lengths.end());
    items.clear();
    for (size_t i = 0; i < lengths.size(); ++i)
      items.push_back({&batched[i], &chained_ids[i], &out.hidden_last[i * H], &chained_pos[i], 1});
    const MtpBatchOutput second = mtp_forward_batch(*model, items);
    for (size_t i = 0; i < lengths.size(); ++i) {
      std::vector<float> logits = model->mtp_forward(alone[i], &chained_ids[i], &out.hidden_last[i * H], &chained_pos[i], 1);
      EXPECT_TRUE(same_bits(&second.logits[i * V], logits.data(), V)) << name << " chained item " << i;
    }
  }
}

TEST(Speculative, GreedyOutputEqualsPlainOnRandomFixtures) {
  for (const char* name : {"tiny", "tiny-fp8", "tiny-topk1", "odd-heads-sharded"}) {
    auto model = LongcatModel::load(testing::model_path(name), false);
    ASSERT_TRUE(model->has_mtp()) << name;
    for (int prompt_len : {1, 7}) {
      const std::vector<int32_t> prompt = test_prompt(prompt_len, model->config().vocab_size);
      const GenerationResult plain = greedy(*model, prompt, 40, 0);
      for (int k : {1, 2, 4}) {
        const GenerationResult spec = greedy(*model, prompt, 40, k);
        EXPECT_EQ(spec.ids, plain.ids) << name << " prompt " << prompt_len << " k " << k;
        EXPECT_EQ(spec.real_experts, plain.real_experts) << name << " k " << k;
        EXPECT_EQ(spec.finish_reason, "length");
        ASSERT_TRUE(spec.speculative);
        EXPECT_EQ(spec.speculative->tokens, 40);
        std::printf("[ speculative ] %s prompt %d k %d: acceptance at position 1 %.3f, %.2f tokens per target forward\n",
                    name, prompt_len, k, spec.speculative->acceptance_rate(0),
                    spec.speculative->tokens_per_target_forward());
      }
    }
  }
}

// A model trained here on a highly regular stream (t' = 5t + 3 mod 64 with a random token now and then): its
// MTP head learns the rule, so on the model's own greedy continuation most drafts agree.
const std::string& trained_model_dir() {
  static const std::string dir = [] {
    const std::string d = ::testing::TempDir() + "/longcat_spec_" + std::to_string(getpid());
    fs::remove_all(d);
    fs::create_directories(d);
    ModelConfig c = testing::small_model_config();
    std::ofstream(d + "/config.json") << model_config_to_json(c).dump(2);
    std::vector<uint32_t> ids(20000);
    uint64_t s = 12345;
    uint32_t t = 1;
    for (auto& id : ids) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      t = (s >> 59) == 0 ? static_cast<uint32_t>((s >> 33) % 64) : (5 * t + 3) % 64;
      id = t;
    }
    std::ofstream(d + "/data.u32", std::ios::binary).write(reinterpret_cast<const char*>(ids.data()), 4 * ids.size());
    train::TrainOptions o;
    o.config_path = d + "/config.json";
    o.data_path = d + "/data.u32";
    o.out_dir = d + "/out";
    o.steps = 150;
    o.seq_len = 32;
    o.batch_tokens = 256;
    o.optimizer.lr = 1e-2;
    o.optimizer.warmup = 10;
    o.loss.weights.mtp = 1.0;
    o.quiet = true;
    train::run_training(o);
    return o.out_dir;
  }();
  return dir;
}

TEST(Speculative, TrainedMtpHeadIsMostlyAcceptedAndGreedyEqualsPlain) {
  auto model = LongcatModel::load(trained_model_dir(), false);
  const std::vector<int32_t> prompt = {7, 38, 1, 8};  // follows the rule: 5 * 7 + 3 = 38, ...
  const GenerationResult plain = greedy(*model, prompt, 60, 0);
  for (int k : {1, 2, 3}) {
    const GenerationResult spec = greedy(*model, prompt, 60, k);
    EXPECT_EQ(spec.ids, plain.ids) << "k " << k;
    EXPECT_EQ(spec.real_experts, plain.real_experts) << "k " << k;
    const SpeculativeStats& st = *spec.speculative;
    std::printf("[ speculative ] trained, k %d: acceptance by position", k);
    for (int j = 0; j < k; ++j) std::printf(" %.3f", st.acceptance_rate(j));
    std::printf(", %.2f drafts kept per step, %.2f tokens per target forward\n", st.mean_accepted_length(),
                st.tokens_per_target_forward());
    EXPECT_GT(st.acceptance_rate(0), 0.5) << "k " << k;
    EXPECT_GT(st.tokens_per_target_forward(), 1.5) << "k " << k;
  }
}

// Driving the sequence directly: a stop token that plain decoding reaches at step 6 ends the output right
// there, whether it arrives as an accepted draft or as the target's own token; budgets are honoured exactly.
TEST(Speculative, StopTokenAndBudgetEndLikePlainDecoding) {
  auto model = LongcatModel::load(trained_model_dir(), false);
  const std::vector<int32_t> prompt = {7, 38, 1, 8};
  const GenerationResult plain = greedy(*model, prompt, 30, 0);
  SamplingParams greedy_params;
  greedy_params.temperature = 0;
  for (int k : {1, 3}) {
    for (int stop_at : {0, 1, 5, 6}) {
      const int32_t stop = plain.ids[stop_at];
      const auto first = std::find(plain.ids.begin(), plain.ids.end(), stop) - plain.ids.begin();
      SpeculativeSequence seq(*model, greedy_params, SpeculativeOptions{k}, stop);
      speculative_prefill(*model, seq, prompt, 30);
      std::vector<int32_t> got;
      CommittedTokens step;
      while (!seq.finished && static_cast<int64_t>(got.size()) < 30) {
        speculative_step(*model, seq, 30 - got.size(), &step);
        got.insert(got.end(), step.ids.begin(), step.ids.end());
      }
      EXPECT_TRUE(seq.finished) << "k " << k << " stop at " << stop_at;
      EXPECT_EQ(got, std::vector<int32_t>(plain.ids.begin(), plain.ids.begin() + first)) << "k " << k;
    }
    for (int budget : {1, 2, 3, 7}) {
      const GenerationResult spec = greedy(*model, prompt, budget, k);
      EXPECT_EQ(spec.ids, std::vector<int32_t>(plain.ids.begin(), plain.ids.begin() + budget)) << "budget " << budget;
      EXPECT_EQ(spec.finish_reason, "length");
    }
  }
}

// Several sequences stepped together (one batched target forward, one batched MTP forward per draft position)
// give what each gives alone.
TEST(Speculative, BatchedStepsEqualSingleSequences) {
  auto model = LongcatModel::load(trained_model_dir(), false);
  SamplingParams greedy_params;
  greedy_params.temperature = 0;
  const std::vector<std::vector<int32_t>> prompts = {{7, 38, 1, 8}, {3, 18}, {10, 53, 12, 63, 2, 13}};
  std::vector<std::unique_ptr<SpeculativeSequence>> seqs;
  std::vector<SpeculativeSequence*> ptrs;
  for (const auto& p : prompts) {
    seqs.push_back(std::make_unique<SpeculativeSequence>(*model, greedy_params, SpeculativeOptions{2}, -1));
    speculative_prefill(*model, *seqs.back(), p, 25);
    ptrs.push_back(seqs.back().get());
  }
  std::vector<std::vector<int32_t>> got(prompts.size());
  std::vector<CommittedTokens> out;
  for (int step = 0; step < 40; ++step) {
    std::vector<SpeculativeSequence*> active;
    std::vector<int64_t> budgets;
    std::vector<size_t> index;
    for (size_t i = 0; i < ptrs.size(); ++i)
      if (got[i].size() < 25) {
        active.push_back(ptrs[i]);
        budgets.push_back(25 - got[i].size());
        index.push_back(i);
      }
    if (active.empty()) break;
    speculative_step_batch(*model, active, budgets, &out);
    for (size_t a = 0; a < active.size(); ++a) got[index[a]].insert(got[index[a]].end(), out[a].ids.begin(), out[a].ids.end());
  }
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(got[i], greedy(*model, prompts[i], 25, 0).ids) << i;
  // The work happened: drafts (batched since the MTP head drafts for all sequences at once) were accepted.
  for (const auto& seq : seqs) {
    EXPECT_GT(seq->stats.acceptance_rate(0), 0.5);
    EXPECT_GT(seq->stats.tokens_per_target_forward(), 1.3);
  }
}

TEST(Speculative, GenerateCommandPrintsSpeculativeStats) {
  const std::string common = " --model " + testing::model_path("tiny") +
                             " --ids 5,17,42,9 --temperature 0 --max-new-tokens 12 --ignore-eos --json --threads 1";
  auto plain = testing::run_longcat("generate" + common);
  auto spec = testing::run_longcat("generate" + common + " --speculative mtp --draft-tokens 2");
  ASSERT_EQ(plain.status, 0) << plain.err;
  ASSERT_EQ(spec.status, 0) << spec.err;
  auto a = nlohmann::json::parse(plain.out), b = nlohmann::json::parse(spec.out);
  EXPECT_EQ(a["ids"], b["ids"]);
  EXPECT_FALSE(a["stats"].contains("speculative"));
  const auto& s = b["stats"]["speculative"];
  EXPECT_EQ(s["draft_tokens"], 2);
  EXPECT_EQ(s["acceptance_rate"].size(), 2u);
  EXPECT_GE(s["tokens_per_target_forward"].get<double>(), 1.0);
  EXPECT_TRUE(s.contains("mean_accepted_length"));
  EXPECT_EQ(testing::run_longcat("generate" + common + " --speculative eagle").status, 2);
}

TEST(Speculative, BenchComparesPlainAndSpeculativeDecode) {
  const std::string args = "bench --model " + testing::model_path("tiny") +
                           " --prompt-len 8 --gen 10 --skip-limits --json --threads 1 --speculative mtp";
  auto r = testing::run_longcat(args + " --draft-tokens 2");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto& s = j["speculative"];
  EXPECT_EQ(s["tokens"], 10);
  EXPECT_EQ(s["same_tokens_as_plain"], true);
  EXPECT_EQ(s["acceptance_rate"].size(), 2u);
  EXPECT_GT(s["tokens_per_second"].get<double>(), 0);
  EXPECT_GT(s["bytes_per_token"].get<double>(), 0);
  // Batched: every sequence's speculative tokens equal its plain ones.
  auto batched = testing::run_longcat(args + " --batch 3");
  ASSERT_EQ(batched.status, 0) << batched.err;
  const auto jb = nlohmann::json::parse(batched.out)["speculative"];
  EXPECT_EQ(jb["tokens"], 30);
  EXPECT_EQ(jb["same_tokens_as_plain"], true);
  EXPECT_GT(jb["sequence_steps"].get<int64_t>(), jb["target_forwards"].get<int64_t>());  // steps were shared
}

}  // namespace
}  // namespace longcat

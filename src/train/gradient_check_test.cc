// Finite-difference gradient checks in float64 for every trainable block, on tiny shapes: each analytic
// gradient is compared with the central difference (L(p + h) - L(p - h)) / 2h of a scalar loss
// L = sum(r * output) with a fixed random r (or the real loss for the loss terms and the whole model).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <utility>

#include "train/batch_gradient.h"
#include "train/losses.h"
#include "train/param_refs.h"
#include "train/sequence_pass.h"

namespace longcat::train {
namespace {

ModelConfig tiny_config() {
  ModelConfig c;
  c.hidden_size = 16;
  c.num_layers = 1;
  c.num_attention_heads = 2;
  c.q_lora_rank = 8;
  c.kv_lora_rank = 6;
  c.qk_nope_head_dim = 4;
  c.qk_rope_head_dim = 4;
  c.v_head_dim = 3;
  c.ffn_hidden_size = 10;
  c.expert_ffn_hidden_size = 6;
  c.n_routed_experts = 4;
  c.zero_expert_num = 2;
  c.moe_topk = 3;
  c.vocab_size = 23;
  c.max_position_embeddings = 64;
  c.num_nextn_predict_layers = 1;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000;
  c.routed_scaling_factor = 2.5;
  c.eos_token_id = 2;
  return c;
}

std::vector<double> random_vector(std::mt19937_64& rng, size_t n, double scale) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// Weights with every norm, and the router bias, moved off their defaults so their gradients are exercised.
ParamArrays<double> test_params(const ParamLayout& layout, uint64_t seed) {
  ParamArrays<double> w = init_params<double>(layout, seed, 0.4, 1.0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.7, 1.3), b(-0.05, 0.05);
  for (size_t i = 0; i < w.size(); ++i) {
    if (layout.params[i].kind == ParamKind::Norm)
      for (double& v : w[i]) v = u(rng);
    if (layout.params[i].kind == ParamKind::Bias)
      for (double& v : w[i]) v = b(rng);
  }
  return w;
}

// Compares grad with central differences of loss() at up to `samples` entries of x.
void check_gradient(std::vector<double>& x, const std::vector<double>& grad, const std::function<double()>& loss,
                    const std::string& what, int samples = 10) {
  ASSERT_EQ(x.size(), grad.size()) << what;
  const double h = 1e-6;
  const size_t stride = std::max<size_t>(1, x.size() / samples);
  for (size_t i = (x.size() > 3 ? 1 : 0); i < x.size(); i += stride) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss();
    x[i] = saved - h;
    const double down = loss();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    EXPECT_NEAR(grad[i], numeric, 1e-6 + 1e-5 * std::fabs(numeric)) << what << " entry " << i;
  }
}

double weighted_sum(const std::vector<double>& r, const std::vector<double>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += r[i] * y[i];
  return s;
}

TEST(GradientCheck, CheckerCatchesAWrongGradient) {
  std::vector<double> x = {1, 2, 3, 4}, g = {2, 4, 6, 8.01};
  auto loss = [&] { return x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3]; };
  EXPECT_NONFATAL_FAILURE(check_gradient(x, g, loss, "deliberately wrong"), "deliberately wrong");
}

TEST(GradientCheck, RmsNormAndLinear) {
  std::mt19937_64 rng(1);
  const int64_t S = 3, n = 7, out = 5;
  std::vector<double> x = random_vector(rng, S * n, 1.0), w = random_vector(rng, n, 1.0),
                      W = random_vector(rng, out * n, 0.5), r = random_vector(rng, S * out, 1.0);
  auto loss = [&] {
    RmsNormTape<double> norm;
    std::vector<double> y(S * n), z(S * out);
    norm.forward(x.data(), w.data(), 1e-5, S, n, y.data());
    linear_forward(y.data(), S, n, W.data(), out, z.data());
    return weighted_sum(r, z);
  };
  RmsNormTape<double> norm;
  std::vector<double> y(S * n), dy(S * n, 0), dx(S * n, 0), dw(n, 0), dW(out * n, 0);
  norm.forward(x.data(), w.data(), 1e-5, S, n, y.data());
  linear_backward(y.data(), r.data(), S, n, W.data(), out, dW.data(), dy.data());
  norm.backward(dy.data(), w.data(), dw.data(), dx.data());
  check_gradient(x, dx, loss, "rmsnorm input");
  check_gradient(w, dw, loss, "rmsnorm weight");
  check_gradient(W, dW, loss, "linear weight");
}

class BlockCheck : public ::testing::Test {
 protected:
  ModelConfig cfg = tiny_config();
  ParamLayout layout = ParamLayout::build(cfg);
  ParamArrays<double> w = test_params(layout, 7);
  std::mt19937_64 rng{3};
  int64_t S = 5;
  int64_t H = cfg.hidden_size;
  RopeTable<double> rope;
  void SetUp() override { rope.build(S, cfg.qk_rope_head_dim, cfg.rope_theta); }

  // Checks every listed tensor and the input gradient of a block given as forward(x, out) / backward.
  void check_block(const std::function<void(const double*, double*)>& forward,
                   const std::function<void(const double*, ParamArrays<double>&, double*)>& backward,
                   const std::vector<int>& tensors, const std::string& what) {
    std::vector<double> x = random_vector(rng, S * H, 1.0), r = random_vector(rng, S * H, 1.0), y(S * H);
    auto loss = [&] {
      forward(x.data(), y.data());
      return weighted_sum(r, y);
    };
    loss();
    ParamArrays<double> g = zeros_like<double>(layout);
    std::vector<double> dx(S * H, 0.0);
    backward(r.data(), g, dx.data());
    check_gradient(x, dx, loss, what + " input");
    for (int t : tensors) check_gradient(w[t], g[t], loss, what + " " + layout.params[t].name);
  }
};

TEST_F(BlockCheck, MlaAttention) {
  const MlaIds& id = layout.ids.layers[0].attn[1];
  MlaTape<double> tape;
  check_block([&](const double* x, double* y) { tape.forward(cfg, refs(id, std::as_const(w)), rope, x, S, y); },
              [&](const double* dy, ParamArrays<double>& g, double* dx) {
                tape.backward(cfg, refs(id, std::as_const(w)), rope, dy, refs(id, g), dx);
              },
              {id.q_a, id.q_a_norm, id.q_b, id.kv_a, id.kv_a_norm, id.kv_b, id.o}, "mla");
}

TEST_F(BlockCheck, SwigluMlp) {
  const MlpIds& id = layout.ids.layers[0].mlp[0];
  MlpTape<double> tape;
  check_block([&](const double* x, double* y) { tape.forward(x, S, H, cfg.ffn_hidden_size, refs(id, std::as_const(w)), y); },
              [&](const double* dy, ParamArrays<double>& g, double* dx) { tape.backward(dy, refs(id, std::as_const(w)), refs(id, g), dx); },
              {id.gate, id.up, id.down}, "mlp");
}

// Router (classifier through the selected scores and a load-balance-style term on every score), FFN experts
// and identity experts. The routing must mix both kinds of experts for the check to mean anything.
TEST_F(BlockCheck, RouterAndExperts) {
  const LayerIds& id = layout.ids.layers[0];
  for (double& v : w[id.router]) v *= 4;  // sharper routing: scores far from uniform
  std::vector<double> lb = random_vector(rng, cfg.total_experts(), 0.3);
  MoeTape<double> tape;
  auto forward = [&](const double* x, double* y) {
    tape.forward(cfg, w[id.router].data(), w[id.bias].data(), expert_refs<double>(id.experts, std::as_const(w)), x, S, y);
  };
  std::vector<double> x = random_vector(rng, S * H, 1.0), r = random_vector(rng, S * H, 1.0), y(S * H);
  auto loss = [&] {
    forward(x.data(), y.data());
    double l = weighted_sum(r, y);
    for (int64_t e = 0; e < cfg.total_experts(); ++e) l += lb[e] * tape.prob_sum[e];
    return l;
  };
  loss();
  int real = 0, zero = 0;
  for (int32_t e : tape.ids) (e < cfg.n_routed_experts ? real : zero)++;
  EXPECT_GT(real, 0);
  EXPECT_GT(zero, 0);
  ParamArrays<double> g = zeros_like<double>(layout);
  std::vector<double> dx(S * H, 0.0);
  tape.backward(cfg, w[id.router].data(), expert_refs<double>(id.experts, std::as_const(w)), r.data(), lb.data(), g[id.router].data(),
                expert_refs<double>(id.experts, g), dx.data());
  check_gradient(x, dx, loss, "moe input");
  check_gradient(w[id.router], g[id.router], loss, "router classifier", 30);
  for (const MlpIds& e : id.experts)
    for (int t : {e.gate, e.up, e.down}) check_gradient(w[t], g[t], loss, layout.params[t].name, 5);
}

TEST_F(BlockCheck, ScMoeLayer) {
  const LayerIds& id = layout.ids.layers[0];
  ScMoeTape<double> tape;
  std::vector<double> lb = random_vector(rng, cfg.total_experts(), 0.1);
  std::vector<int> tensors = {id.input_norm[0], id.input_norm[1], id.post_norm[0], id.post_norm[1], id.router,
                              id.attn[0].q_b, id.attn[1].kv_b, id.mlp[0].down, id.mlp[1].gate, id.experts[1].up};
  check_block([&](const double* x, double* y) { std::copy_n(x, S * H, y), tape.forward(cfg, id, w, rope, y, S); },
              [&](const double* dy, ParamArrays<double>& g, double* dx) {
                std::copy_n(dy, S * H, dx);
                tape.backward(cfg, id, w, rope, nullptr, g, dx);
              },
              tensors, "scmoe layer");
}

TEST_F(BlockCheck, MtpHead) {
  const MtpIds& id = layout.ids.mtp;
  std::vector<int32_t> next = {3, 7, 7, 1, 22};
  MtpTape<double> tape;
  check_block([&](const double* x, double* y) { tape.forward(cfg, id, w, rope, next.data(), x, S, y); },
              [&](const double* dy, ParamArrays<double>& g, double* dx) { tape.backward(cfg, id, w, rope, dy, g, dx); },
              {id.embed, id.enorm, id.hnorm, id.eh_proj, id.input_norm, id.post_norm, id.final_norm, id.attn.q_a,
               id.attn.kv_a, id.mlp.up},
              "mtp");
}

TEST(GradientCheck, CrossEntropyAndZLoss) {
  std::mt19937_64 rng(5);
  const int64_t S = 4, V = 9;
  std::vector<double> z = random_vector(rng, S * V, 2.0), d(S * V, 0.0);
  std::vector<int32_t> targets = {0, 8, 3, 3};
  cross_entropy<double>(z.data(), targets.data(), S, V, 0.5, d.data());
  check_gradient(z, d, [&] { return 0.5 * cross_entropy<double>(z.data(), targets.data(), S, V, 0, nullptr).loss_sum; },
                 "cross-entropy");
  std::fill(d.begin(), d.end(), 0.0);
  hidden_z_loss<double>(z.data(), S, V, 0.3, d.data());
  check_gradient(z, d, [&] { return 0.3 * hidden_z_loss<double>(z.data(), S, V, 0, nullptr); }, "hidden z-loss");
}

// The whole model with every loss term on: next-token CE, MTP CE, z-loss and the group load-balance loss.
TEST(GradientCheck, WholeModelAllLosses) {
  ModelConfig cfg = tiny_config();
  cfg.num_layers = 2;
  const ParamLayout layout = ParamLayout::build(cfg);
  ParamArrays<double> w = test_params(layout, 11);
  for (const LayerIds& l : layout.ids.layers)
    for (double& v : w[l.router]) v *= 4;
  const int64_t S = 6;
  std::vector<std::vector<int32_t>> seqs = {{1, 5, 9, 22, 4, 4, 17, 0}, {2, 2, 13, 8, 19, 6, 3, 21}};
  LossOptions opt;
  opt.weights.mtp = 0.7;
  opt.weights.z = 0.05;
  opt.lb_weight = 0.2;
  opt.lb_groups = 2;
  opt.target_real = 2;
  BatchGradient<double> bg;
  ParamArrays<double> g = zeros_like<double>(layout);
  BatchResult r = bg.run(cfg, layout, w, seqs, S, opt, &g);
  EXPECT_GT(r.lb_loss, 0);
  EXPECT_GT(r.z_loss, 0);
  auto loss = [&] { return bg.run(cfg, layout, w, seqs, S, opt, nullptr).loss; };
  EXPECT_DOUBLE_EQ(loss(), r.loss);
  for (size_t t = 0; t < layout.params.size(); ++t) {
    if (layout.params[t].kind == ParamKind::Bias) continue;
    check_gradient(w[t], g[t], loss, layout.params[t].name, 3);
  }
}

}  // namespace
}  // namespace longcat::train

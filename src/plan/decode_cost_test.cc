// Every work formula of the planner on small shapes counted by hand (docs/planner.md gives the derivations).
#include "plan/decode_cost.h"

#include <map>
#include <gtest/gtest.h>

#include "util/error.h"

namespace longcat::plan {
namespace {

ModelShape tiny_mla() {
  ModelShape m;
  m.family = "test";
  m.hidden = 8;
  m.vocab = 10;
  m.layers = 2;
  m.attention.kind = AttentionKind::kMla;
  m.attention.heads = 2;
  m.attention.q_lora = 4;
  m.attention.kv_lora = 3;
  m.attention.qk_nope = 2;
  m.attention.qk_rope = 1;
  m.attention.v_head_dim = 2;
  m.experts = 4;
  m.topk = 1;
  m.expert_ffn = 5;
  return m;
}

Deployment batch3_context5() {
  Deployment d;
  d.batch_per_device = 3;
  d.context = 5;
  d.real_experts = 1;
  return d;
}

TEST(PlanRoofline, SlowestLegPlusLatency) {
  HardwareProfile hw;
  hw.name = "t";
  hw.matrix_flops = 100;
  hw.attention_flops = 50;
  hw.memory_bandwidth = 10;
  hw.weight_stream_bandwidth["bf16"] = 5;
  hw.all_to_all_bandwidth = 2;
  hw.op_latency = 0.5;
  Work w;
  w.gemm_flops = 200;       // 2 s
  w.attention_flops = 100;  // + 2 s = 4 s compute
  w.weight_bytes = 20;      // 4 s at the bf16 streaming rate
  w.cache_bytes = 30;       // + 3 s = 7 s memory
  w.ops = 2;                // + 1 s
  Timed t = roofline(w, hw, "bf16");
  EXPECT_DOUBLE_EQ(t.compute_s, 4);
  EXPECT_DOUBLE_EQ(t.memory_s, 7);
  EXPECT_DOUBLE_EQ(t.seconds, 8);
  EXPECT_STREQ(t.bound, "memory");
  EXPECT_DOUBLE_EQ(roofline(w, hw, "fp8").memory_s, 5);  // fp8 streams at memory_bandwidth here
  hw.compute_memory_overlap = false;                        // a CPU: the legs add up
  EXPECT_DOUBLE_EQ(roofline(w, hw, "bf16").seconds, 4 + 7 + 1);
  hw.compute_memory_overlap = true;
  // A measured kernel table times the weights' products at their tokens per weight (here 2).
  HardwareProfile cpu = hw;
  cpu.op_latency = 0;
  cpu.batched_weight_bandwidth = {{1, 5.0}, {2, 2.5}};
  Work m;
  m.weight_bytes = 40;     // 20 bf16 parameters
  m.gemm_flops = 2 * 20 * 2;
  t = roofline(m, cpu, "bf16");
  EXPECT_DOUBLE_EQ(t.seconds, 40 / 2.5);
  EXPECT_STREQ(t.bound, "kernel");
  Work c;
  c.comm_bytes = 30;
  t = roofline(c, hw, "bf16");
  EXPECT_DOUBLE_EQ(t.seconds, 15);
  EXPECT_STREQ(t.bound, "network");
  hw.all_to_all_bandwidth = 0;
  EXPECT_THROW(roofline(c, hw, "bf16"), UsageError);
  // Small matrices stream at the measured size table's fraction of the large-matrix rate.
  HardwareProfile sized = cpu;
  sized.matrix_size_bandwidth = {{10.0, 1.0}, {1000.0, 4.0}};
  m.matrix_bytes = 10;  // a quarter of the largest size's rate
  EXPECT_DOUBLE_EQ(roofline(m, sized, "bf16").seconds, 40 / (2.5 * 0.25));
  m.matrix_bytes = 0;  // unknown size: the large-matrix rate
  EXPECT_DOUBLE_EQ(roofline(m, sized, "bf16").seconds, 40 / 2.5);
  // A sum of works keeps the byte-weighted matrix size.
  Work a, b;
  a.weight_bytes = 30;
  a.matrix_bytes = 10;
  b.weight_bytes = 10;
  b.matrix_bytes = 50;
  EXPECT_DOUBLE_EQ((a + b).matrix_bytes, (30 * 10 + 10 * 50) / 40.0);
  // Short rows stream at the row table's fraction of the long-row rate; a mix of lengths adds their times.
  HardwareProfile rowed = cpu;
  rowed.row_size_bandwidth = {{100.0, 1.0}, {400.0, 2.0}};
  Work r = m;
  r.bytes_by_row = {{100.0, 20.0}, {400.0, 20.0}};  // half the bytes at half the rate
  EXPECT_DOUBLE_EQ(row_factor(r, rowed), 40 / (20 / 0.5 + 20 / 1.0));
  EXPECT_DOUBLE_EQ(roofline(r, rowed, "bf16").seconds, 20 / (2.5 * 0.5) + 20 / 2.5);
  EXPECT_DOUBLE_EQ(row_factor(r, cpu), 1.0);  // no row table: the long-row rate
  EXPECT_DOUBLE_EQ(row_factor(m, rowed), 1.0);  // rows unknown: the same
  // Sums add the bytes of each row length; a scaled work scales them.
  Work s1, s2;
  s1.bytes_by_row = {{100.0, 1.0}};
  s2.bytes_by_row = {{100.0, 2.0}, {400.0, 3.0}};
  const Work both = 2.0 * (s1 + s2);
  EXPECT_EQ(both.bytes_by_row, (std::map<double, double>{{100.0, 6.0}, {400.0, 6.0}}));
}

TEST(PlanDecodeCost, MlaBlockCountedByHand) {
  // H 8, 2 heads, q_lora 4, kv_lora 3, nope 2, rope 1, v 2; 3 tokens, 5 keys, bf16.
  const AttentionWork a = attention_block_work(tiny_mla(), batch3_context5());
  // q_a 8x4 + kv_a 8x(3+1) = 64 replicated; q_b 4x2x3 = 24 + absorbed key half 2x2x3 = 12 -> 100 params.
  EXPECT_DOUBLE_EQ(a.projections.gemm_flops, 2 * 3 * 100);
  EXPECT_DOUBLE_EQ(a.projections.weight_bytes, 200);
  EXPECT_DOUBLE_EQ(a.projections.ops, 5);
  // Value half 2x2x3 = 12 + o_proj 2x2x8 = 32 -> 44 params.
  EXPECT_DOUBLE_EQ(a.core.gemm_flops, 2 * 3 * 44);
  EXPECT_DOUBLE_EQ(a.core.weight_bytes, 88);
  // Per token, head and key: 2 x (3 + 1) for the score + 2 x 3 for the weighted latent.
  EXPECT_DOUBLE_EQ(a.core.attention_flops, 3 * 5 * 2 * (2 * 4 + 2 * 3));
  EXPECT_DOUBLE_EQ(a.core.cache_bytes, 3 * 5 * 4 * 2);
  // Matrix sizes: the projections' four matrices (q_a, q_b, kv_a, key half), the core's two (value half, o_proj).
  EXPECT_DOUBLE_EQ(a.projections.matrix_bytes, 200.0 / 4);
  EXPECT_DOUBLE_EQ(a.core.matrix_bytes, 88.0 / 2);
  // Rows (bytes per row -> bytes): q_a and kv_a read rows of H = 8 (16 B), q_b rows of q_lora = 4 (8 B), the
  // key half rows of kv_lora = 3 (6 B); the value half rows of 3 (6 B), o_proj rows of heads x v = 4 (8 B).
  EXPECT_EQ(a.projections.bytes_by_row, (std::map<double, double>{{16.0, 64.0 + 64.0}, {8.0, 48.0}, {6.0, 24.0}}));
  EXPECT_EQ(a.core.bytes_by_row, (std::map<double, double>{{6.0, 24.0}, {8.0, 64.0}}));
}

TEST(PlanDecodeCost, GqaBlockUnderTensorParallelism) {
  ModelShape m = tiny_mla();
  m.attention = AttentionShape{};
  m.attention.kind = AttentionKind::kGqa;
  m.attention.heads = 4;
  m.attention.kv_heads = 2;
  m.attention.head_dim = 2;
  Deployment d = batch3_context5();
  d.tp = 2;
  const AttentionWork a = attention_block_work(m, d);
  // A device serves the group's 6 tokens with 2 query heads and 1 KV head: q 8x2x2 + k,v 2 x 8x2 = 64 params.
  EXPECT_DOUBLE_EQ(a.projections.gemm_flops, 2 * 6 * 64);
  EXPECT_DOUBLE_EQ(a.projections.weight_bytes, 128);
  EXPECT_DOUBLE_EQ(a.core.gemm_flops, 2 * 6 * 32);          // o_proj: 2 heads x 2 x 8
  EXPECT_DOUBLE_EQ(a.core.attention_flops, 6 * 5 * 2 * 8);  // 2 heads x (q.k + p.v) x 2 x head_dim
  EXPECT_DOUBLE_EQ(a.core.cache_bytes, 6 * 5 * 2 * 2 * 2);  // K and V of one head, bf16
  // Same FLOPs as one device running its own 3 tokens with every head.
  d.tp = 1;
  const AttentionWork whole = attention_block_work(m, d);
  EXPECT_DOUBLE_EQ(whole.projections.gemm_flops + whole.core.gemm_flops, a.projections.gemm_flops + a.core.gemm_flops);
  EXPECT_DOUBLE_EQ(whole.core.attention_flops, a.core.attention_flops);
}

TEST(PlanDecodeCost, MlpRouterAndHead) {
  const Work mlp = mlp_work(8, 5, 3, 2);
  EXPECT_DOUBLE_EQ(mlp.gemm_flops, 2 * 3 * 120);
  EXPECT_DOUBLE_EQ(mlp.weight_bytes, 240);
  EXPECT_DOUBLE_EQ(mlp.matrix_bytes, 80);  // gate, up, down: 8 x 5 x 2 bytes each
  ModelShape m = tiny_mla();
  m.zero_experts = 2;
  const Work router = router_work(m, 3, 2);
  EXPECT_DOUBLE_EQ(router.gemm_flops, 2 * 3 * 8 * 6);  // zero experts have router columns too
  const Work head = head_work(m, batch3_context5());
  EXPECT_DOUBLE_EQ(head.gemm_flops, 2 * 3 * 80);
  EXPECT_DOUBLE_EQ(head.weight_bytes, 80 * 2 + 3 * 8 * 2);
  EXPECT_DOUBLE_EQ(head.matrix_bytes, 80 * 2);  // lm_head
  // Rows: gate and up read rows of hidden 8 (16 B), down rows of ffn 5 (10 B); router and head rows of 8.
  EXPECT_EQ(mlp.bytes_by_row, (std::map<double, double>{{16.0, 160.0}, {10.0, 80.0}}));
  EXPECT_EQ(router.bytes_by_row, (std::map<double, double>{{16.0, 8 * 6 * 2.0}}));
  EXPECT_EQ(head.bytes_by_row, (std::map<double, double>{{16.0, 80 * 2 + 3 * 8 * 2.0}}));
}

TEST(PlanDecodeCost, ExpertsPerDeviceAndTouched) {
  ModelShape m = tiny_mla();
  Deployment d;
  d.ep = 2;
  d.batch_per_device = 1;
  d.real_experts = 1;
  // 2 experts per device; 2 tokens in the group, each picks a given expert with probability 1/4.
  EXPECT_DOUBLE_EQ(experts_touched_per_device(m, d), 2 * (1 - 0.75 * 0.75));
  const Work e = experts_work(m, d);
  EXPECT_DOUBLE_EQ(e.gemm_flops, 2 * 1 * 1 * 120);
  EXPECT_DOUBLE_EQ(e.weight_bytes, 0.875 * 120 * 2);
  // Gate and up in rows of hidden 8 (16 B), down in rows of the expert width 5 (10 B).
  EXPECT_EQ(e.bytes_by_row, (std::map<double, double>{{16.0, 0.875 * 80 * 2}, {10.0, 0.875 * 40 * 2}}));
  // One device, one token, k real experts: exactly k experts read.
  d.ep = 1;
  d.real_experts = 3;
  EXPECT_NEAR(experts_touched_per_device(m, d), 3, 1e-12);
}

TEST(PlanDecodeCost, AllToAllCountsOnlyRealExpertsOnOtherDevices) {
  ModelShape m = tiny_mla();
  Deployment d;
  d.ep = 4;
  d.batch_per_device = 2;
  d.real_experts = 3;
  EXPECT_DOUBLE_EQ(all_to_all_work(m, d, 2).comm_bytes, 2 * 3 * 8 * 2 * 3.0 / 4);
  d.ep = 1;
  EXPECT_DOUBLE_EQ(all_to_all_work(m, d, 2).comm_bytes, 0);
}

TEST(PlanDecodeCost, WeightAndCacheFormats) {
  EXPECT_DOUBLE_EQ(weight_bytes_per_param("bf16"), 2);
  EXPECT_DOUBLE_EQ(weight_bytes_per_param("fp8"), 1 + 4.0 / 16384);
  EXPECT_DOUBLE_EQ(weight_bytes_per_param("int8"), 1 + 4.0 / 64);
  EXPECT_DOUBLE_EQ(weight_bytes_per_param("int4"), 0.5 + 4.0 / 32);
  EXPECT_THROW(weight_bytes_per_param("fp4"), UsageError);
  EXPECT_DOUBLE_EQ(cache_bytes_per_value("f32"), 4);
  EXPECT_THROW(cache_bytes_per_value("int2"), UsageError);
}

TEST(PlanDeployment, NonsenseIsRejectedNamingTheOption) {
  ModelShape m = tiny_mla();
  auto why = [&](Deployment d) {
    try {
      resolve_deployment(m, d);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  Deployment d;
  d.ep = 8;
  EXPECT_EQ(why(d), "expert parallelism 8 exceeds the model's 4 routed experts (--ep)");
  d = Deployment{};
  d.batch_per_device = 0;
  EXPECT_EQ(why(d), "must be at least 1 (--batch-per-device)");
  d = Deployment{};
  d.ep = 2;
  d.devices = 3;
  EXPECT_EQ(why(d), "devices must be a positive multiple of --ep (2) (--devices)");
  d = Deployment{};
  d.tp = 3;
  EXPECT_EQ(why(d), "must divide the 2 attention heads (--tp)");
  d = Deployment{};
  d.overlap = Overlap::kSbo;
  EXPECT_NE(why(d).find("single-batch overlap needs a shortcut-connected MoE"), std::string::npos);
  d = Deployment{};
  d.mtp_acceptance = 1.5;
  EXPECT_EQ(why(d), "must be in [0, 1] (--mtp-acceptance)");
  EXPECT_EQ(resolve_deployment(m, Deployment{}).overlap, Overlap::kNone);  // EP 1: nothing to overlap
}

}  // namespace
}  // namespace longcat::plan

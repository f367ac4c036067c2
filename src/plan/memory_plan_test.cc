// Weights and cache per device, cross-checked against the engine's own parameter count.
#include "plan/memory_plan.h"

#include <gtest/gtest.h>

#include "model/param_count.h"

namespace longcat::plan {
namespace {

const std::string kLongcat = std::string(LONGCAT_TEST_DATA) + "/configs/longcat-flash-chat.json";

HardwareProfile gpu(double bytes) {
  HardwareProfile hw;
  hw.name = "g";
  hw.matrix_flops = hw.attention_flops = 1e15;
  hw.memory_bandwidth = 1e12;
  hw.memory_bytes = bytes;
  return hw;
}

TEST(PlanMemory, OneDeviceHoldsWhatInspectCounts) {
  const ModelConfig cfg = load_model_config(kLongcat);
  const ParamCounts counts = count_params(cfg);
  const ModelShape m = model_shape_from_longcat(cfg, kLongcat);
  Deployment d;
  d = resolve_deployment(m, d);
  // The planner leaves out norm vectors and router biases (a few MB in 560 B).
  const double norms = cfg.num_layers * (4.0 * cfg.hidden_size + 2.0 * (cfg.q_lora_rank + cfg.kv_lora_rank) +
                                         cfg.total_experts()) +
                       cfg.hidden_size;
  EXPECT_DOUBLE_EQ(weight_params_per_device(m, d), static_cast<double>(counts.total) - norms);
  // With drafts in use the MTP head is stored too.
  d.mtp_acceptance = 0.5;
  const double mtp_norms = 2.0 * cfg.hidden_size /* enorm, hnorm */ + 2.0 * cfg.hidden_size /* layer norms */ +
                           cfg.q_lora_rank + cfg.kv_lora_rank + cfg.hidden_size /* mtp.norm */;
  EXPECT_DOUBLE_EQ(weight_params_per_device(m, d), static_cast<double>(counts.total_with_mtp) - norms - mtp_norms);
}

TEST(PlanMemory, LatentCacheAndExpertSplit) {
  const ModelShape m = load_model_shape(kLongcat);
  Deployment d;
  d.ep = 128;
  d.batch_per_device = 96;
  d.context = 4096;
  d = resolve_deployment(m, d);
  // 56 attention blocks x (512 + 64) values x 2 bytes: the 63 KiB per token of the architecture notes.
  EXPECT_DOUBLE_EQ(cache_values_per_token_per_device(m, d) * 2, 64512);
  const MemoryPlan p = memory_plan(m, d, gpu(80e9));
  EXPECT_DOUBLE_EQ(p.cache_bytes, 96.0 * 4096 * 64512);
  const double per_expert = 3.0 * 6144 * 2048;
  Deployment one = resolve_deployment(m, Deployment{});
  EXPECT_DOUBLE_EQ(weight_params_per_device(m, one) - weight_params_per_device(m, d), 28 * (512 - 4) * per_expert);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.max_batch, static_cast<int64_t>((80e9 - p.weight_bytes) / (4096.0 * 64512)));
  EXPECT_FALSE(memory_plan(m, d, gpu(10e9)).fits);
}

TEST(PlanMemory, GqaCacheSplitByTensorParallelism) {
  const ModelShape m = load_model_shape("qwen3-235b-a22b");
  Deployment d;
  d.ep = 128;
  d.tp = 4;
  d = resolve_deployment(m, d);
  // 4 KV heads over TP4: each device keeps one head for 4x the sequences -> one full cache per own sequence.
  EXPECT_DOUBLE_EQ(cache_values_per_token_per_device(m, d), 94.0 * 2 * 4 * 128);
  d.tp = 8;  // 8 > 4 KV heads: each head is replicated on two devices
  EXPECT_DOUBLE_EQ(cache_values_per_token_per_device(m, d), 94.0 * 2 * 4 * 128 * 2);
}

}  // namespace
}  // namespace longcat::plan

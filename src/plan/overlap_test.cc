// Layer time under each overlap strategy, on part times chosen by hand.
#include "plan/overlap.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace longcat::plan {
namespace {

LayerParts parts() {
  LayerParts p;
  p.attention_projections.seconds = 1;
  p.attention_core.seconds = 2;  // one block: 3
  p.dense_mlp.seconds = 4;
  p.router.seconds = 0.5;
  p.dispatch.seconds = 6;
  p.experts.seconds = 1.5;
  p.combine.seconds = 12;
  return p;
}

ModelShape scmoe() {
  ModelShape m;
  m.attention_per_layer = 2;
  m.mlps_per_layer = 2;
  m.shortcut_moe = true;
  return m;
}

TEST(PlanOverlap, NoneRunsEveryPartInTurn) {
  const LayerTime t = moe_layer_time(scmoe(), parts(), Overlap::kNone);
  EXPECT_DOUBLE_EQ(t.serial_s, 2 * 3 + 2 * 4 + 0.5 + 6 + 1.5 + 12);
  EXPECT_DOUBLE_EQ(t.seconds, t.serial_s);
  EXPECT_DOUBLE_EQ(t.hidden_s(), 0);
}

TEST(PlanOverlap, TwoBatchHidesLocalWorkUnderCommunication) {
  // max(attention + MLPs + router = 14.5, dispatch + combine = 18) + experts 1.5
  EXPECT_DOUBLE_EQ(moe_layer_time(scmoe(), parts(), Overlap::kTbo).seconds, 19.5);
  LayerParts p = parts();
  p.combine.seconds = 2;  // now compute-bound: 14.5 + 1.5
  EXPECT_DOUBLE_EQ(moe_layer_time(scmoe(), p, Overlap::kTbo).seconds, 16);
}

TEST(PlanOverlap, SingleBatchFourStages) {
  // (attention 0 + router) + max(dispatch, MLP 0 + attention 1 projections) + experts
  //   + max(combine, rest of attention 1 + MLP 1) = 3.5 + max(6, 5) + 1.5 + max(12, 6)
  const LayerTime t = moe_layer_time(scmoe(), parts(), Overlap::kSbo);
  EXPECT_DOUBLE_EQ(t.seconds, 23);
  EXPECT_DOUBLE_EQ(t.hidden_s(), 34 - 23);
  LayerParts p = parts();
  p.dispatch.seconds = 1;  // stage 2 now waits for MLP 0 + projections (5)
  p.combine.seconds = 1;   // stage 4 for attention core + MLP 1 (6)
  EXPECT_DOUBLE_EQ(moe_layer_time(scmoe(), p, Overlap::kSbo).seconds, 3.5 + 5 + 1.5 + 6);
}

TEST(PlanOverlap, SingleBatchNeedsShortcutMoe) {
  ModelShape m = scmoe();
  m.shortcut_moe = false;
  EXPECT_THROW(moe_layer_time(m, parts(), Overlap::kSbo), UsageError);
}

TEST(PlanOverlap, DenseLayer) {
  ModelShape m;
  m.attention_per_layer = 1;
  LayerParts p = parts();
  p.dense_ffn.seconds = 7;
  EXPECT_DOUBLE_EQ(dense_layer_seconds(m, p), 3 + 7);
}

}  // namespace
}  // namespace longcat::plan

#include "dist/expert_ownership.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace longcat::dist {

TEST(ExpertOwnership, RangesTileTheExpertsAndOwnerInvertsThem) {
  for (int experts : {1, 3, 8, 12, 512})
    for (int ranks = 1; ranks <= std::min(experts, 9); ++ranks) {
      ExpertOwnership own = make_ownership(0, ranks, experts);
      EXPECT_EQ(own.first(0), 0);
      EXPECT_EQ(own.end(ranks - 1), experts);
      for (int r = 0; r < ranks; ++r) {
        EXPECT_GT(own.end(r), own.first(r)) << "every rank owns at least one expert";
        for (int e = own.first(r); e < own.end(r); ++e) EXPECT_EQ(own.owner(e), r) << experts << " " << ranks;
      }
    }
}

TEST(ExpertOwnership, MoreRanksThanExpertsIsAUsageError) {
  EXPECT_THROW(make_ownership(0, 9, 8), UsageError);
  EXPECT_NO_THROW(make_ownership(7, 8, 8));
}

TEST(ExpertOwnership, ExpertOfTensor) {
  EXPECT_EQ(expert_of_tensor("model.layers.3.mlp.experts.17.up_proj.weight"), 17);
  EXPECT_EQ(expert_of_tensor("model.layers.0.mlp.experts.0.down_proj.weight_scale_inv"), 0);
  EXPECT_EQ(expert_of_tensor("model.layers.3.mlp.router.classifier.weight"), -1);
  EXPECT_EQ(expert_of_tensor("model.layers.3.mlps.0.up_proj.weight"), -1);
  EXPECT_EQ(expert_of_tensor("model.mtp.layers.0.transformer_layer.mlp.up_proj.weight"), -1);
}

}  // namespace longcat::dist

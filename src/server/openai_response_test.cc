// The `longcat` extension of streamed chunks: per token, real experts per layer (the sums over layers divided
// by the layer count, three decimals) and the router's top-k as the scale.
#include "server/openai_response.h"

#include <gtest/gtest.h>

namespace longcat::server {
namespace {

TEST(OpenAiResponse, ChunkExtensionGivesRealExpertsPerLayerOfEachToken) {
  ResponseContext ctx;
  ctx.num_layers = 3;
  ctx.top_k = 12;
  const ojson f = longcat_chunk_field(ctx, {0, 36, 10});
  EXPECT_EQ(f["top_k"], 12);
  ASSERT_EQ(f["real_experts"].size(), 3u);
  EXPECT_EQ(f["real_experts"][0].get<double>(), 0.0);
  EXPECT_EQ(f["real_experts"][1].get<double>(), 12.0);
  EXPECT_EQ(dump(f["real_experts"][2]), "3.333");  // short on the wire
}

}  // namespace
}  // namespace longcat::server

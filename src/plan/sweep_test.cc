// The sweep grid, its CSV and SVG, and the plot's tick rule.
#include "plan/sweep.h"

#include <gtest/gtest.h>

#include "plan/svg_plot.h"
#include "util/error.h"

namespace longcat::plan {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

TEST(PlanSweep, TickSteps) {
  EXPECT_DOUBLE_EQ(nice_tick_step(7), 2);     // 7/5 = 1.4 -> 2
  EXPECT_DOUBLE_EQ(nice_tick_step(100), 20);  // 20
  EXPECT_DOUBLE_EQ(nice_tick_step(0.3), 0.1);
  EXPECT_DOUBLE_EQ(nice_tick_step(24), 5);
}

TEST(PlanSweep, ParsesLists) {
  EXPECT_EQ(parse_positive_list("1,8,32", "--x"), (std::vector<int64_t>{1, 8, 32}));
  EXPECT_THROW(parse_positive_list("1,,2", "--x"), UsageError);
  EXPECT_THROW(parse_positive_list("0", "--x"), UsageError);
  EXPECT_THROW(parse_positive_list("3k", "--x"), UsageError);
}

TEST(PlanSweep, GridCsvAndPlot) {
  const ModelShape m = load_model_shape(std::string(LONGCAT_TEST_DATA) + "/configs/longcat-flash-chat.json");
  const HardwareProfile hw = resolve_hardware_profile("h800");
  Deployment base;
  base.mtp_acceptance = 0.8;
  SweepGrid grid{{1, 8, 96}, {64, 128, 1024}, {2048, 8192}};
  const SweepResult r = run_sweep(m, hw, base, grid);
  EXPECT_EQ(r.plans.size(), 2u * 2 * 3);  // EP 1024 > 512 experts: skipped
  EXPECT_EQ(r.skipped.size(), 2u * 3);
  EXPECT_NE(r.skipped[0].find("--ep"), std::string::npos);
  const std::string csv = sweep_csv(r);
  EXPECT_EQ(count(csv, "\n"), 1 + r.plans.size());
  EXPECT_EQ(csv.rfind("ep,devices,tp,batch_per_device,context,", 0), 0u);
  const std::string svg = sweep_svg(r, "LongCat on H800");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "<polyline"), 4u);  // one per (EP, context)
  EXPECT_EQ(count(svg, "<circle"), r.plans.size());
  // Throughput per device grows with batch; speed per user falls.
  EXPECT_LT(r.plans[0].tokens_per_s_device, r.plans[2].tokens_per_s_device);
  EXPECT_GT(r.plans[0].tokens_per_s_user, r.plans[2].tokens_per_s_user);
}

}  // namespace
}  // namespace longcat::plan

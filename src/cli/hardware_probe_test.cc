// The planner probe's default weight size: beyond every cache of the machine, whatever its last level holds.
#include "cli/hardware_probe.h"

#include <gtest/gtest.h>

namespace longcat::cli {
namespace {

TEST(HardwareProbe, DefaultWeightIsFourTimesTheLastLevelCache) {
  EXPECT_EQ(default_probe_mib(0), 256);                     // unknown cache: the old fixed size
  EXPECT_EQ(default_probe_mib(int64_t{32} << 20), 256);     // Zen 5's 32 MiB L3: 128 MiB would do, 256 is the floor
  EXPECT_EQ(default_probe_mib(int64_t{260} << 20), 1088);   // Emerald Rapids' 260 MiB: 1040 rounded up to 64 MiB
  EXPECT_EQ(default_probe_mib(int64_t{2} << 30), 4096);     // capped
  EXPECT_GE(last_level_cache_bytes(), 0);
}

}  // namespace
}  // namespace longcat::cli

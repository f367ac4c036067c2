// The FMA yardstick's choice of OpenBLAS kernels: by the CPU's features, never OpenBLAS's fallback for a CPU
// model it does not know (cli/machine_limits.h), and the kernels that really ran are reported.
#include "cli/machine_limits.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu_features.h"

namespace longcat::cli {
namespace {

TEST(OpenblasKernels, NamedByTheCpusFeatures) {
  EXPECT_STREQ(openblas_coretype_for(true, true), "SkylakeX");
  EXPECT_STREQ(openblas_coretype_for(false, true), "Haswell");
  EXPECT_EQ(openblas_coretype_for(false, false), nullptr);
}

TEST(OpenblasKernels, TheSgemmProbeRunsTheChosenKernelsAndSaysSo) {
  const bool user_chose = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  std::string note;
  const double flops = measure_sgemm_flops(1, &note, 256, 2);
  ASSERT_GT(flops, 0) << note;  // scripts/setup.sh installs OpenBLAS
  ASSERT_NE(note.find(" kernels"), std::string::npos) << note;
  if (!user_chose && cpu_has_avx2_fma()) {
    const char* expected = openblas_coretype_for(cpu_has_avx512_core(), true);
    EXPECT_EQ(note, std::string(expected) + " kernels");
    EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), expected);
  }
}

}  // namespace
}  // namespace longcat::cli

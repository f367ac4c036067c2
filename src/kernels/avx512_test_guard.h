// The opening of a test that compares an AVX-512 kernel with its AVX2 twin (kernel_consistency_test.cc,
// attention_ops_test.cc).
#pragma once
#include <gtest/gtest.h>

#include <cstdio>

#include "kernels/cpu_features.h"

// Where the AVX-512 kernels are off, leaves the test: skipped when LONGCAT_ISA=avx2 turned them off on a CPU
// that has them (a choice to test without them); passed with a note on a CPU without AVX-512, where they
// never run and there is nothing to compare (scripts/test.sh fails on any skip). `what` names the AVX2
// kernel that is then the only one.
#define LONGCAT_RETURN_UNLESS_AVX512(what)                                                                  \
  do {                                                                                                       \
    if (!::longcat::use_avx512_kernels()) {                                                                  \
      if (::longcat::cpu_has_avx512_core()) GTEST_SKIP() << "LONGCAT_ISA=avx2: the AVX-512 kernels are off"; \
      std::printf("this CPU has no AVX-512 F/DQ/VL/BW: the AVX2 %s is the only one, nothing to compare\n",  \
                  what);                                                                                     \
      return;                                                                                                \
    }                                                                                                        \
  } while (false)

// Run-time CPU dispatch: the AVX2+FMA kernels are compiled separately (*_avx2.cc) and chosen once here.
#pragma once

namespace longcat {

bool cpu_has_avx2_fma();
// AVX-512 F, BW, DQ and VL (Skylake-SP and later, Zen 4 and later): no kernel of ours uses it; the FMA
// yardstick does (cli/machine_limits.h).
bool cpu_has_avx512_core();
// LONGCAT_ISA=generic forces the portable kernels (for tests comparing both paths).
bool use_avx2_kernels();

}  // namespace longcat

// Run-time CPU dispatch: the AVX2+FMA kernels are compiled separately (*_avx2.cc) and chosen once here.
#pragma once

namespace longcat {

bool cpu_has_avx2_fma();
// LONGCAT_ISA=generic forces the portable kernels (for tests comparing both paths).
bool use_avx2_kernels();

}  // namespace longcat

// Run-time CPU dispatch: the AVX2+FMA kernels are compiled separately (*_avx2.cc) and chosen once here.
#pragma once

namespace longcat {

bool cpu_has_avx2_fma();
// AVX-512 F, BW, DQ and VL (Skylake-SP and later, Zen 4 and later): prefill's sweep over converted blocks
// uses it (kernels/paired_rows_avx512.h), and so does latent attention (attention_ops_avx512.cc); the FMA
// yardstick too (cli/machine_limits.h).
bool cpu_has_avx512_core();
// LONGCAT_ISA=generic forces the portable kernels (for tests comparing both paths).
bool use_avx2_kernels();
// The AVX-512 prefill sweep and attention, where the CPU has it and the AVX2 kernels are in use; LONGCAT_ISA=avx2 keeps
// AVX2 only. Its outputs are the AVX2 kernel's bits, so this choice changes speed, never results.
bool use_avx512_kernels();
// Tests and benchmarks comparing both paths in one process: false turns the AVX-512 kernels off, true turns it
// back on where use_avx512_kernels() allows it.
void allow_avx512_kernels(bool allowed);
// AVX-512 VNNI and GFNI (Ice Lake and later, Zen 4 and later; not Cascade Lake, which has VNNI alone and takes
// the plain AVX-512 form): int4 decode's integer dot products in one instruction and its nibbles in another
// (kernels/int4_decode_avx512vnni.cc), where use_avx512_kernels() holds; LONGCAT_ISA=avx512 keeps AVX-512
// without them. The same bits either way.
bool cpu_has_avx512_vnni_gfni();
bool use_avx512_vnni_kernels();
// Tests and benchmarks comparing both: false turns only the VNNI kernels off.
void allow_avx512_vnni_kernels(bool allowed);

}  // namespace longcat

// AVX-512 VNNI form of the int4 x int8-activation decode (int4_pairs_avx512.h): vpdpbusd adds the four
// products of unsigned weight and signed activation bytes of each 32-bit lane to the lane at once, exactly the
// integer that maddubs + madd give (no saturation either way, the pairs stay below 2^15), so starting it from
// minus the offset gives the AVX2 kernel's sums in one instruction instead of three: the same bits. Compiled
// with -mavx512vnni besides the AVX-512 flags, called only where the CPU has it (cpu_features.h).
#include "kernels/decode_pairs_avx512.h"

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*, which -W(maybe-)uninitialized
// reports where they are inlined (a known false positive); off for this file, where the reports point.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "kernels/int4_pairs_avx512.h"

namespace longcat::avx512 {

namespace {

struct DotSums {
  static __m512i prepare(__m512i offset) { return _mm512_sub_epi32(_mm512_setzero_si512(), offset); }
  static __m512i sums(__m512i codes, __m512i x, __m512i minus_offset) { return _mm512_dpbusd_epi32(minus_offset, codes, x); }
};

uint64_t pairs_decoded = 0;  // __atomic builtins: no <atomic> template instantiated here

}  // namespace

int64_t decode_int4_row_pairs_vnni(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y) {
  const int64_t done = int4_row_pairs<DotSums>(w, x, r0, r1, y);
  __atomic_fetch_add(&pairs_decoded, static_cast<uint64_t>(done / 2), __ATOMIC_RELAXED);
  return done;
}

uint64_t int4_row_pairs_decoded_vnni() { return __atomic_load_n(&pairs_decoded, __ATOMIC_RELAXED); }

}  // namespace longcat::avx512

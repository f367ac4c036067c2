// AVX-512 VNNI + GFNI form of the int4 x int8-activation decode (int4_pairs_avx512.h). vpdpbusd adds the four
// products of unsigned weight and signed activation bytes of each 32-bit lane to the lane at once, exactly the
// integer that maddubs + madd give (no saturation either way, the pairs stay below 2^15), so starting it from
// minus the offset gives the AVX2 kernel's sums in one instruction instead of three: the same bits. And one
// GFNI affine transform picks the nibbles: a bit matrix per 64-bit lane (low nibble in place for the low
// quarters, high nibble moved down for the high ones) and the constant 8 xor-ed in, where the AVX-512 form
// shifts and then masks (the tile is bound by vector operations: ~5% of its time, in L2). Compiled with
// -mavx512vnni -mgfni besides the AVX-512 flags, called only where the CPU has both (cpu_features.h).
#include "kernels/decode_pairs_avx512.h"

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*, which -W(maybe-)uninitialized
// reports where they are inlined (a known false positive); off for this file, where the reports point.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "kernels/int4_pairs_avx512.h"

namespace longcat::avx512 {

namespace {

struct DotForm {
  static __m512i pair_codes(const uint8_t* even, const uint8_t* odd) {
    // Row k of a lane's matrix is byte 7 - k: output bit k takes input bit k (low) or k + 4 (high), k < 4.
    const long long low = 0x0102040800000000LL, high = 0x1020408000000000LL;
    return _mm512_gf2p8affine_epi64_epi8(int4_pair_bytes(even, odd),
                                          _mm512_setr_epi64(low, low, high, high, low, low, high, high), 8);
  }
  static __m512i prepare(__m512i offset) { return _mm512_sub_epi32(_mm512_setzero_si512(), offset); }
  static __m512i sums(__m512i codes, __m512i x, __m512i minus_offset) { return _mm512_dpbusd_epi32(minus_offset, codes, x); }
};

uint64_t pairs_decoded = 0;  // __atomic builtins: no <atomic> template instantiated here

}  // namespace

int64_t decode_int4_row_pairs_vnni(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y) {
  const int64_t done = int4_row_pairs<DotForm>(w, x, r0, r1, y);
  __atomic_fetch_add(&pairs_decoded, static_cast<uint64_t>(done / 2), __ATOMIC_RELAXED);
  return done;
}

uint64_t int4_row_pairs_decoded_vnni() { return __atomic_load_n(&pairs_decoded, __ATOMIC_RELAXED); }

}  // namespace longcat::avx512

// AVX-512 batch-1 decode of block-FP8 weights and of int4 weights with int8 activations
// (decode_pairs_avx512.cc), called from matmul_avx2.cc and int8_activations_avx2.cc.
//
// Why: on AVX2 an fp8 matrix-vector product is bound by unpacking, not by memory (bench-mini's fp8 decode
// reached 53-55% of the read bandwidth, against 85-97% for bf16, whose codes need one shift): nine integer
// operations turn 32 codes into four vectors of floats, then four FMAs. With 512-bit registers the same
// nine operations and four FMAs serve two rows. As in paired_rows_avx512.h, a register holds two rows' AVX2
// accumulators side by side (lanes 0-7 the even row's, 8-15 the odd row's), each lane does the AVX2 lane's
// operations in its order and each half is reduced by the AVX2 tree: the outputs are the AVX2 decode's bits.
#pragma once
#include <cstdint>

namespace longcat::avx512 {

// Block-FP8 rows as the AVX2 kernel reads them (weight_lanes_avx2.h Fp8Lanes): row r's codes at
// codes + r * cols, its scale for column group g at scales[(r / block_rows) * scale_cols + g] (times 2^88:
// the codes' float32 form leaves out 2^120 and the activations come times 2^32), group g = columns
// [g * block_cols, (g + 1) * block_cols).
struct Fp8Rows {
  const uint8_t* codes;
  int64_t cols;
  const float* scales;
  int64_t scale_cols;
  int64_t block_rows;
  int64_t block_cols;
};

// y[r] = row r . x for r in [r0, r0 + done), where done is the returned count: the even number of rows
// that fit in [r0, r1). x is in the AVX2 kernel order of fp8 and times 2^32 (kernel_order_x); the caller does the odd last
// row with the AVX2 kernel.
int64_t decode_fp8_row_pairs(const Fp8Rows& w, const float* x, int64_t r0, int64_t r1, float* y);

// Row pairs decoded since the program started (tests assert that the AVX-512 path really ran).
uint64_t fp8_row_pairs_decoded();

// int4 rows as int8_activations_avx2.cc reads them (Int4Codes): row r's nibble pairs at codes + r * row_bytes,
// its scale for group g at scales[r * scale_cols + g], a group of blocks_per_group 32-column blocks.
struct Int4Rows {
  const uint8_t* codes;
  int64_t row_bytes;
  int64_t cols;
  const float* scales;
  int64_t scale_cols;
  int64_t blocks_per_group;
};

// One token's activations quantised per 32-column block (int8_activations_avx2.cc QuantizedActivations):
// block b's 32 codes in Int4Codes' kernel order at codes + 32 b, its scale scales[b], and eight int32 lanes
// of 8 x (the sum of each lane's four codes) at offsets + 8 b.
struct Int8Activations {
  const int8_t* codes;
  const float* scales;
  const int32_t* offsets;
  int64_t blocks;
};

// As decode_fp8_row_pairs, for int4 rows times int8 activations (the same integer sums and float folds as the
// AVX2 kernel, so its bits); the caller does the odd last row.
int64_t decode_int4_row_pairs(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y);

uint64_t int4_row_pairs_decoded();

// The same with AVX-512 VNNI (int4_decode_avx512vnni.cc: the integer sums in one instruction), the same bits;
// only where use_avx512_vnni_kernels().
int64_t decode_int4_row_pairs_vnni(const Int4Rows& w, const Int8Activations& x, int64_t r0, int64_t r1, float* y);

uint64_t int4_row_pairs_decoded_vnni();

}  // namespace longcat::avx512

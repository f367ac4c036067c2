// The AVX-512 sweep of prefill's converted weight blocks (paired_rows_avx512.cc), called from matmul_avx2.cc.
//
// A 512-bit register holds the eight float32 lanes of two rows side by side: lanes 0-7 are the even row's
// AVX2 accumulator, lanes 8-15 the odd row's. Each lane does the same fused multiply-adds in the same order as
// the AVX2 tile, and the two halves are reduced by the same tree, so the outputs are the AVX2 prefill's (and
// so decode's) bits, at twice the multiply-adds per instruction.
#pragma once
#include <cstdint>

namespace longcat::avx512 {

// Rows of one block converted to float32 codes in kernel order, stored in pairs: pair p starts at
// codes + p * 2 * ld, and its 8-column chunk j holds the even row's columns 8j..8j+7 at +16j and the odd row's
// at +16j + 8 (ld = cols rounded up to 8; the padding of the last chunk is zero). An odd row count leaves the
// last pair's odd half unused.
struct PairedBlock {
  const float* codes;
  int64_t ld;
  int64_t rows;
  int64_t cols;
  // Scaled formats: scales[i * groups + g] multiplies row i's sum over columns [g * group, (g + 1) * group),
  // applied as the AVX2 kernel does (acc = fma(group sum, scale, acc)). Null for formats without scales.
  const float* scales;
  int64_t groups;
  int64_t group;
  // The weight bytes the caller converts next (null: none), requested into L2 a share at a time while this
  // block is swept: converting a block otherwise waits on DRAM row by row (the load stalls took ~6% of
  // bench-mini's prefill). Only when they arrive changes, never a result.
  const char* next_codes = nullptr;
  int64_t next_bytes = 0;
};

// y[t * ldy + i] = row i of the block . x[t * ldx ...] for t < n (x in the weight's kernel order).
void sweep_paired_block(const PairedBlock& block, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy);

// Blocks swept since the program started (tests assert that the AVX-512 path really ran).
uint64_t paired_blocks_swept();

// Rows per converted block on this path: about 512 KiB of float32 codes (it stays in L2), a multiple of 8.
int64_t paired_block_rows(int64_t cols);

}  // namespace longcat::avx512

// Decode's software prefetch for the matrix kernels (matmul_avx2.cc, int8_activations_avx2.cc,
// decode_pairs_avx512.cc).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace longcat {

// An unnamed namespace in a header, on purpose: each file gets its own copy, compiled for its own ISA. Shared
// inline functions would let the linker keep an AVX-512 file's copy for the AVX2 callers too.
namespace {

// Decode's software prefetch: each of a tile's R row streams requests its bytes kAheadBytes / R ahead of where
// it reads, and near a row's end continues into the same row of the next tile (rows are contiguous, so that
// is R rows further on), so the requests run on across tiles instead of restarting with every tile.
// Why: a core only has so many loads in flight, and with the FMAs between them the out-of-order window
// holds a few KiB of outstanding weight bytes, too few to cover DRAM latency at the bandwidth a core can
// draw; prefetches retire at once and keep the misses going (BM_MatVec, docs/performance.md "Session 11":
// 512 x 2048 bf16 matrices 33 -> 45 GB/s on 2 threads). Rows of a few KiB are also too short for the
// hardware prefetcher to train on before they end. Prefetching never changes a result, only when the bytes
// arrive.
// (bf16_decode_tile8 in matmul_avx2.cc runs a shorter 2 KiB on Zen 3, measured faster for that tile there.)
constexpr int64_t kAheadBytes = 8192;

// Requests byte `offset` of each of a tile's `rows` rows (row 0 at `first`, rows `row_bytes` apart and
// contiguous); an offset past a row's end is the same row of the next tile, `rows` rows on.
inline void prefetch_tile_rows(const char* first, int64_t offset, int64_t row_bytes, int64_t rows) {
  const char* p = first + offset + (offset >= row_bytes ? (rows - 1) * row_bytes : 0);
  for (int64_t i = 0; i < rows; ++i) _mm_prefetch(p + i * row_bytes, _MM_HINT_T0);
}

struct RowStreamPrefetch {
  const char* first = nullptr;  // row 0 of the tile
  int64_t row_bytes = 0;        // distance between consecutive rows
  int64_t chunk_bytes = 0;      // bytes of one row per accumulate() chunk
  int64_t distance = 0;         // bytes ahead of the read position, per row
  int64_t rows = 0;             // R
  int64_t read = 0;             // bytes of each row read so far
  int64_t next = 0;             // next byte offset (within a row) to request
  // A tile of `rows` rows from `first`, read `chunk_bytes` of each row per advance(). The first `distance`
  // bytes of each row were requested by the tile before (for a thread's first tile: left to the hardware
  // prefetcher and the demand loads).
  RowStreamPrefetch(const char* first_row, int64_t row_stride, int64_t chunk, int64_t tile_rows)
      : first(first_row), row_bytes(row_stride), chunk_bytes(chunk), distance(kAheadBytes / tile_rows),
        rows(tile_rows), next(distance) {}
  void advance() {
    read += chunk_bytes;
    for (; next < read + distance; next += 64) prefetch_tile_rows(first, next, row_bytes, rows);
  }
};

// The group scales' streams of the int8/int4 tiles: each row's scales sit in a separate array (4 bytes per
// 16 bytes of int4 codes at groups of 32, a fifth of the bytes read), R more short row streams that the
// codes' RowStreamPrefetch does not cover and the hardware prefetcher did not keep up with beside the code
// streams (BM_MatVecInterleaved int4 on a Zen 5: 0.33 -> 0.78 of the probe with this). Requests the line of
// every row's scales for the block `ahead_blocks` after `block`, in the same rows of a later tile once past
// the rows' end (rows and their scales are contiguous). Called once per run of blocks whose scales span at
// most a line: each run's first scale is requested, so every line is.
inline void prefetch_scale_rows(const float* first_row, int64_t scale_cols, int64_t block, int64_t row_blocks,
                                int64_t blocks_per_group, int64_t ahead_blocks, int64_t rows) {
  const int64_t target = block + ahead_blocks, tiles_on = target / row_blocks;
  const float* at = first_row + tiles_on * rows * scale_cols + (target % row_blocks) / blocks_per_group;
  for (int64_t i = 0; i < rows; ++i) _mm_prefetch(reinterpret_cast<const char*>(at + i * scale_cols), _MM_HINT_T0);
}

}  // namespace

}  // namespace longcat

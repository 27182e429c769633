// Causal attention of one query position over paged K/V (f16, q8_0 or q4_0), for a group of
// query heads that share one KV head (GQA). Numerics follow llama.cpp's CPU paths:
//  f16:  q is rounded to f16 for q·k, softmax is f32, and the softmax weights are rounded to f16
//        before they multiply V.
//  q8_0 / q4_0 (flash-attention path): K/V are stored Hadamard-rotated (kv_dtype.h), so q is
//        rotated alike and then quantized to Q8_0 (the K type's vec_dot_type); q·k is an integer
//        dot per 32-block scaled by d_q·d_k; V rows are dequantized and accumulated with f32
//        weights, and the output is rotated back. q and out are always in the model's space.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kv_dtype.h"

namespace semantic::kernels {

struct PagedHeadKv {
  const uint8_t* const* k_blocks = nullptr;  // [n_blocks] -> K row of this KV head at position 0
  const uint8_t* const* v_blocks = nullptr;  // [n_blocks] -> V row of this KV head at position 0
  int block_tokens = 16;
  int row_stride = 0;  // bytes between consecutive positions within a block
  int head_dim = 0;    // elements; a multiple of 32 for the quantized dtypes
  KvDtype dtype = KvDtype::kF16;
};

// q: [n_q][head_dim] f32 (n_q heads of one group), out: [n_q][head_dim] f32. Attends positions
// [0, n_pos). scratch: at least n_q * n_pos floats.
void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out);

// One segment of a split (long-context) attention, unnormalized and without f16 rounding of the
// weights: out[h] = sum_p exp(s_p - m[h]) v_p, l[h] = sum_p exp(s_p - m[h]). Segments are merged
// with MergePartials.
void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l);

// Combines n_seg partial results (out: [n_seg][n_q][head_dim], m and l: [n_seg][n_q]) into the
// normalized result: [n_q][head_dim].
void MergePartials(const float* out, const float* m, const float* l, int n_seg, int n_q,
                   int head_dim, float* result);

// A tile of query tokens that attend the same KV head from position 0 (prefill): token i has
// n_q query heads q[i] ([n_q][head_dim] f32) and attends positions [0, n_pos[i]). With m[i] null
// its result is AttendGroup's, else AttendGroupPartial's (out[i]: [n_q][head_dim], m[i] and
// l[i]: [n_q]). Each token's result is bit-identical to that single-token call: the tile only
// shares the loads and f16 conversions of K/V rows between tokens.
struct QueryTile {
  int n_tok = 0;
  int n_q = 0;
  const float* const* q = nullptr;  // [n_tok]
  const int* n_pos = nullptr;       // [n_tok], each >= 1
  float* const* out = nullptr;      // [n_tok]
  float* const* m = nullptr;        // [n_tok]; an entry may be null (normalized result)
  float* const* l = nullptr;        // [n_tok]; null where m is
};

// Tiles of up to this many tokens x heads take the tiled f16 kernel; larger ones, and the
// quantized dtypes, run one AttendGroup / AttendGroupPartial call per token.
constexpr int kMaxTileRows = 128;

// Floats of scratch that AttendTile needs for this tile.
size_t AttendTileScratch(const PagedHeadKv& kv, const QueryTile& tile);
void AttendTile(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch);

namespace ref {
void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out);
void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l);
}  // namespace ref

}  // namespace semantic::kernels

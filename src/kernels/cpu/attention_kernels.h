// The x86 paged-attention kernels behind kernels/attention.h's dispatch (attention.cpp), one per
// instruction set and KV dtype; declared here for the dispatcher and for tests that compare the
// sets with each other.
#pragma once

#include "kernels/attention.h"

namespace semantic::kernels::cpu {

// f16 K/V, one query token: AVX2 + F16C, and AVX-512 with the same bits.
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l);
void AttendGroupAvx512(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                       float* scratch, float* out, float* partial_m, float* partial_l);
// q8_0 / q4_0 K/V, one query token.
void AttendGroupQuantizedAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                              float scale, float* scratch, float* out, float* partial_m,
                              float* partial_l);
void AttendGroupQuantizedAvx512(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                                float scale, float* scratch, float* out, float* partial_m,
                                float* partial_l);
// f16 K/V, a tile of prefill tokens (per token the bits of the one-token call).
void AttendTileAvx2(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch);
void AttendTileAvx512(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch);

}  // namespace semantic::kernels::cpu

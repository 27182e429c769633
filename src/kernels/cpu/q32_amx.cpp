// AMX-INT8 tiles (Sapphire Rapids and later) for Q4_0, Q4_1 and Q8_0 weights in prefill-sized
// calls (more than 16 tokens). The tile unit computes the exact integer dot products of 16 weight
// rows and 8 tokens over one 32-element block; AVX-512 only rearranges weight quants and applies
// the per-block scales. The f32 scale arithmetic per (row, token, block) is the same op sequence
// as the token-lane and single-token tiles, so results are bit-identical to them.
//
// Q4_0 / Q4_1: tokens are the tile's A (8 rows of signed activation quants, loaded in place from
// PackedActs::qs) and weights its B (TDPBSUD): 16 rows' nibbles transposed into AMX's 4-byte
// column-group layout, so each 64-byte result row is one token over 16 weight rows, which the
// scales then take in whole vectors. Q8_0: weights are A, loaded in place (stride = row bytes),
// against B = PackedActs::qsi (its 8-token interleave is AMX's B layout), with TDPBSSD.
// The rest of the table is the AVX-512 set (this file includes the same kernel sources).
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "base/check.h"
#include "kernels/cpu/q32_token_lanes.inc.h"

namespace semantic::kernels::cpu {
namespace {

// Tile registers, two sets so consecutive blocks overlap in the tile unit: 3s = C, 3s + 1 = A,
// 3s + 2 = B. Q4 (tokens x weights): C 8 tokens x 16 rows i32, A 8 tokens x 32 quants, B 8
// column groups x 16 rows x 4 quants. Q8_0 (weights x tokens): C 16 rows x 8 tokens i32, A 16 rows
// x 32 quants, B 8 column groups x 8 tokens x 4 quants.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TileConfig MakeConfig(bool weights_as_a) {
  TileConfig c;
  const int c_rows = weights_as_a ? 16 : 8, c_cols = weights_as_a ? 32 : 64;
  for (int set = 0; set < 2; ++set) {
    c.rows[3 * set] = c_rows, c.colsb[3 * set] = c_cols;  // C
    c.rows[3 * set + 1] = c_rows, c.colsb[3 * set + 1] = 32;  // A
    c.rows[3 * set + 2] = 8, c.colsb[3 * set + 2] = c_cols;   // B
  }
  return c;
}

constexpr int kAmxRows = 16;
constexpr int kTileBytes = 512;  // one weight tile (16 rows x 32 quants), one block's C tile

// Per-thread scratch: the rearranged weight tiles and the C results of every block of a row
// group.
uint8_t* AmxScratch(int64_t nb) {
  struct Buffer {
    uint8_t* ptr = nullptr;
    size_t cap = 0;
    ~Buffer() { std::free(ptr); }
  };
  thread_local Buffer buf;
  const size_t need = static_cast<size_t>(nb) * 2 * kTileBytes;  // multiple of 64
  if (buf.cap < need) {
    std::free(buf.ptr);
    buf.ptr = static_cast<uint8_t*>(std::aligned_alloc(64, need));
    CHECK(buf.ptr != nullptr);
    buf.cap = need;
  }
  return buf.ptr;
}

// A group of 16 weight rows [r, r + 16), clamped to r1 (rows past it repeat the last), with the
// group after next prefetched; idx = the rows' offsets from rows[0], for gathering block heads;
// tiles / sums: this thread's scratch for the nb blocks' weight tiles and C results.
struct RowGroup {
  const uint8_t* rows[kAmxRows];
  int valid;
  __m512i idx;
  uint8_t* tiles;
  int32_t* sums;
};

inline void StartGroup(const WeightView& w, int64_t r, int64_t r1, int64_t nb, RowGroup* g) {
  g->tiles = AmxScratch(nb);
  g->sums = reinterpret_cast<int32_t*>(g->tiles + nb * kTileBytes);
  Prefetch pf;
  g->valid = TileRows<kAmxRows>(w, r, r1, g->rows, &pf);
  for (int64_t k = 0; k < pf.lines; ++k)
    _mm_prefetch(reinterpret_cast<const char*>(pf.ptr + 64 * k), _MM_HINT_T0);
  alignas(64) int32_t offs[kAmxRows];
  for (int i = 0; i < kAmxRows; ++i) offs[i] = static_cast<int32_t>(g->rows[i] - g->rows[0]);
  g->idx = _mm512_load_si512(offs);
}

// Integer sums of blocks [0, nb), two at a time in tile sets 0-2 and 3-5: C(b) = A(b) B(b),
// stored at cbuf + 128 b with row stride `stride` (= B's). A(b), B(b): tile addresses; A's
// row stride a_stride. kSignedB: TDPBSSD, else TDPBSUD (unsigned B).
template <bool kSignedB, class APtr, class BPtr>
inline void BlockSums(int64_t nb, APtr a_tile, long a_stride,  // NOLINT(runtime/int)
                      BPtr b_tile, long stride, int32_t* cbuf) {  // NOLINT(runtime/int)
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    _tile_loadd(1, a_tile(b), a_stride);
    _tile_loadd(2, b_tile(b), stride);
    _tile_loadd(4, a_tile(b + 1), a_stride);
    _tile_loadd(5, b_tile(b + 1), stride);
    _tile_zero(0);
    _tile_zero(3);
    if constexpr (kSignedB) {
      _tile_dpbssd(0, 1, 2);
      _tile_dpbssd(3, 4, 5);
    } else {
      _tile_dpbsud(0, 1, 2);
      _tile_dpbsud(3, 4, 5);
    }
    _tile_stored(0, cbuf + 128 * b, stride);
    _tile_stored(3, cbuf + 128 * (b + 1), stride);
  }
  if (b < nb) {
    _tile_loadd(1, a_tile(b), a_stride);
    _tile_loadd(2, b_tile(b), stride);
    _tile_zero(0);
    if constexpr (kSignedB) {
      _tile_dpbssd(0, 1, 2);
    } else {
      _tile_dpbsud(0, 1, 2);
    }
    _tile_stored(0, cbuf + 128 * b, stride);
  }
}

// Q4_0 / Q4_1: rows [r, r + 16) (clamped to r1) x tokens [t, t + n) over all blocks, in three
// passes so that no pass waits on another's latency: (1) every block's B tile (nibbles to bytes,
// 4-byte column groups of the 16 rows side by side), (2) the tile unit's 8 x 16 integer sums of
// every block, alternating two tile sets, (3) AVX-512 applies the block scales in block order.
template <class W>
void TileAmxQ4(const WeightView& w, const PackedActs& a, int64_t r, int64_t r1, int64_t t, int n,
               float* y) {
  constexpr int kQuants = W::kAffine ? 4 : 2;  // quant bytes after d (and m)
  RowGroup grp;
  StartGroup(w, r, r1, a.nb, &grp);
  const uint8_t* const* rows = grp.rows;
  const int valid = grp.valid;
  const int64_t nb = a.nb, pad = a.n_tok_pad;
  uint8_t* bbuf = grp.tiles;
  int32_t* cbuf = grp.sums;
  // (1) Z[q] holds rows q, q + 4, q + 8, q + 12 (16 quant bytes = 4 column groups each); the
  // 4 x 4 dword transpose within 128-bit lanes leaves group k of row i at dword i of g[k].
  // Byte j of a row holds column j (low nibble) and j + 16 (high): groups k and k + 4.
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const size_t off = static_cast<size_t>(b) * W::kBytes + kQuants;
    auto row = [&](int i) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + off));
    };
    __m512i z[4];
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      z[q] = _mm512_castsi128_si512(row(q));
      z[q] = _mm512_mask_broadcast_i32x4(z[q], 0x00F0, row(q + 4));
      z[q] = _mm512_mask_broadcast_i32x4(z[q], 0x0F00, row(q + 8));
      z[q] = _mm512_mask_broadcast_i32x4(z[q], 0xF000, row(q + 12));
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    const __m512i g[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                          _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
    uint8_t* dst = bbuf + b * kTileBytes;
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      _mm512_store_si512(dst + 64 * k, _mm512_and_si512(g[k], m4));
      _mm512_store_si512(dst + 64 * (k + 4), _mm512_and_si512(_mm512_srli_epi32(g[k], 4), m4));
    }
  }
  // (2) Integer block sums: A = 8 tokens' quants in place, B = the weight tiles.
  const int8_t* xq = a.qs + t * a.qs_stride;  // block b of 8 tokens: xq + 32 b, stride qs_stride
  BlockSums<false>(
      nb, [&](int64_t b) { return xq + 32 * b; }, static_cast<long>(a.qs_stride),  // NOLINT
      [&](int64_t b) { return bbuf + b * kTileBytes; }, 64, cbuf);
  // (3) Scales: lane i of every vector is row i; acc[j] is token t + j.
  const __m512i idx = grp.idx;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  __m512 acc[kLanes];
#pragma GCC unroll 8
  for (int j = 0; j < kLanes; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    // f16 d (and m) of the 16 rows: [d0 m0 ... d7 m7] and [d8 m8 ... d15 m15] -> d, m vectors.
    const __m512i heads = _mm512_i32gather_epi32(idx, rows[0] + b * W::kBytes, 1);
    const __m512 h_lo = _mm512_cvtph_ps(_mm512_castsi512_si256(heads));
    const __m512 h_hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(heads, 1));
    const __m512 dw = _mm512_permutex2var_ps(h_lo, even, h_hi);
    __m512 mw = _mm512_setzero_ps();
    if constexpr (W::kAffine) mw = _mm512_permutex2var_ps(h_lo, odd, h_hi);
    const float* dx = a.d + b * pad + t;
    const int32_t* cb = cbuf + 128 * b;
#pragma GCC unroll 8
    for (int j = 0; j < kLanes; ++j) {
      __m512i isum = _mm512_load_si512(cb + 16 * j);
      if constexpr (W::kOffset != 0)
        isum = _mm512_sub_epi32(isum, _mm512_set1_epi32(a.xsum[b * pad + t + j] * W::kOffset));
      acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(dx[j])),
                               _mm512_cvtepi32_ps(isum), acc[j]);
      if constexpr (W::kAffine)
        acc[j] = _mm512_fmadd_ps(mw, _mm512_set1_ps(a.s[b * pad + t + j]), acc[j]);
    }
  }
  const __mmask16 keep = static_cast<__mmask16>((1u << valid) - 1);
  for (int j = 0; j < n; ++j) _mm512_mask_storeu_ps(y + (t + j) * w.rows + r, keep, acc[j]);
}

// Q8_0: rows [r, r + 16) (clamped to r1) x tokens [t, t + n), the same passes with the weights
// as A (in place when all 16 rows are there, else copied) and the tokens as B.
void TileAmxQ8(const WeightView& w, const PackedActs& a, int64_t r, int64_t r1, int64_t t, int n,
               float* y) {
  using W = TraitsQ8_0;
  constexpr int kQuants = 2;  // quant bytes after d
  RowGroup grp;
  StartGroup(w, r, r1, a.nb, &grp);
  const uint8_t* const* rows = grp.rows;
  const int valid = grp.valid;
  const int64_t nb = a.nb, pad = a.n_tok_pad;
  uint8_t* abuf = grp.tiles;
  int32_t* cbuf = grp.sums;
  const bool in_place = valid == kAmxRows;
  if (!in_place)
    for (int64_t b = 0; b < nb; ++b)
      for (int i = 0; i < kAmxRows; ++i)
        std::memcpy(abuf + b * kTileBytes + 32 * i, rows[i] + b * W::kBytes + kQuants, 32);
  // Integer block sums: A = the weight rows, B = the tokens' interleaved quants.
  const int32_t* xt = a.qsi + t * (a.cols / 4);  // block b: 8 groups x 8 tokens at xt + 64 b
  auto a_tile = [&](int64_t b) -> const void* {
    return in_place ? static_cast<const void*>(rows[0] + b * W::kBytes + kQuants)
                    : static_cast<const void*>(abuf + b * kTileBytes);
  };
  const long a_stride = in_place ? static_cast<long>(w.row_bytes) : 32;  // NOLINT(runtime/int)
  BlockSums<true>(nb, a_tile, a_stride, [&](int64_t b) { return xt + 64 * b; }, 32, cbuf);
  // Scales, per (row, token) in block order.
  const __m512i idx = grp.idx;
  __m512 acc[8];  // acc[k]: rows 2k (lanes 0..7) and 2k + 1 (lanes 8..15), lane % 8 = token
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) acc[k] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    // f16 d of the 16 rows (and two quant bytes) -> [d0 _ d1 _ ... d7 _] per half.
    const __m512i heads = _mm512_i32gather_epi32(idx, rows[0] + b * W::kBytes, 1);
    const __m512 h_lo = _mm512_cvtph_ps(_mm512_castsi512_si256(heads));
    const __m512 h_hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(heads, 1));
    const __m512 dx = _mm512_castpd_ps(
        _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(a.d + b * pad + t))));
    const int32_t* cb = cbuf + 128 * b;
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const int j = 4 * (k % 4);  // d of row 2k at lane j, of row 2k + 1 at lane j + 2
      const __m512i pick_d =
          _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32(j), _mm512_set1_epi32(j + 2));
      const __m512 dw = _mm512_permutexvar_ps(pick_d, k < 4 ? h_lo : h_hi);
      const __m512i isum = _mm512_load_si512(cb + 16 * k);
      acc[k] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dx), _mm512_cvtepi32_ps(isum), acc[k]);
    }
  }
  alignas(64) float out[kAmxRows][8];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) _mm512_store_ps(out[2 * k], acc[k]);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < valid; ++i) y[(t + j) * w.rows + r + i] = out[i][j];
}

// Calls of more tokens than this (prefill chunks) take the AMX tiles; batched decode steps keep
// the AVX-512 token-lane tiles: in whole SmolLM2 decode steps of 8 sequences the AMX tiles were
// no faster (Xeon, 2 threads, alternating runs), though faster on the matmuls alone.
constexpr int64_t kAmxMinTokens = 17;

// AMX tiles for prefill-sized calls, else the AVX-512 token-lane / single-token tiles.
template <class W>
void MatMulQ32Amx(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                  int64_t t1, float* y) {
  if (a.qsi == nullptr || a.n_tok < kAmxMinTokens) {
    MatMulQ32Lanes<W>(w, a, r0, r1, t0, t1, y);
    return;
  }
  static const TileConfig config = MakeConfig(W::kSigned);
  _tile_loadconfig(&config);
  for (int64_t t = t0; t < t1; t += kLanes) {
    const int n = static_cast<int>(std::min<int64_t>(kLanes, t1 - t));
    for (int64_t r = r0; r < r1; r += kAmxRows) {
      if constexpr (W::kSigned) {
        TileAmxQ8(w, a, r, r1, t, n, y);
      } else {
        TileAmxQ4<W>(w, a, r, r1, t, n, y);
      }
    }
  }
  _tile_release();  // no tile state kept between calls (context switches stay cheap)
}

}  // namespace

bool AmxUsable() {
  static const bool ok = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool tile = (d >> 24) & 1, int8 = (d >> 25) & 1;  // AMX-TILE, AMX-INT8
    if (!tile || !int8) return false;
    // Linux hands out the tile data state only on request (ARCH_REQ_XCOMP_PERM, XTILEDATA).
    constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

void FillQ32Amx(KernelSet* ks) {
  using quant::DType;
  ks->tile[static_cast<int>(DType::kQ4_0)] = MatMulQ32Amx<TraitsQ4_0>;
  ks->tile[static_cast<int>(DType::kQ4_1)] = MatMulQ32Amx<TraitsQ4_1>;
  ks->tile[static_cast<int>(DType::kQ8_0)] = MatMulQ32Amx<TraitsQ8_0>;
}

}  // namespace semantic::kernels::cpu

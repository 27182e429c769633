// The KV pool's device mirror (PagedKvDevice): storing a step's K/V rows as f16 and causal
// attention of every query token of a batch over its sequence's blocks, in one launch per layer.
// Attention splits long ranges over several thread blocks (flash-decoding) and merges them.
#include <algorithm>
#include <cstdlib>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

// Byte offset of KV head `head`'s row at in-block position `slot` of `block`, layer `layer`,
// slab `which` (0: K, 1: V), as kv::KvPool lays out a layout without sliding layers.
__device__ __forceinline__ size_t RowAt(const PagedKvDevice& g, int layer, int32_t block,
                                        int which, int head, int slot) {
  const size_t per_kv = static_cast<size_t>(g.block_tokens) * g.n_kv_heads * g.head_dim * 2;
  return ((static_cast<size_t>(layer) * g.n_blocks + block) * 2 + which) * per_kv +
         (static_cast<size_t>(head) * g.block_tokens + slot) * g.head_dim * 2;
}

// One thread block per token; threads over the token's K and V elements.
__global__ void StoreKvKernel(PagedKvDevice g, int layer, const float* k, const float* v,
                              const int32_t* block, const int32_t* slot, uint16_t* stage) {
  const int t = blockIdx.x, kv_dim = g.n_kv_heads * g.head_dim;
  for (int i = threadIdx.x; i < kv_dim; i += blockDim.x) {
    const int h = i / g.head_dim, e = i % g.head_dim;
    const uint16_t hk = FloatToHalfBits(k[static_cast<size_t>(t) * kv_dim + i]);
    const uint16_t hv = FloatToHalfBits(v[static_cast<size_t>(t) * kv_dim + i]);
    uint16_t* kr = reinterpret_cast<uint16_t*>(g.base + RowAt(g, layer, block[t], 0, h, slot[t]));
    uint16_t* vr = reinterpret_cast<uint16_t*>(g.base + RowAt(g, layer, block[t], 1, h, slot[t]));
    kr[e] = hk;
    vr[e] = hv;
    if (stage != nullptr) {
      stage[(static_cast<size_t>(t) * 2) * kv_dim + i] = hk;
      stage[(static_cast<size_t>(t) * 2 + 1) * kv_dim + i] = hv;
    }
  }
}

constexpr int kMaxHeadDim = 256;
constexpr int kPerLane = kMaxHeadDim / kWarp;

// A token attending n_pos positions is split into SplitsOf(n_pos) thread blocks of ChunkOf(n_pos)
// positions each (at least kMinChunk, at most kMaxSplits blocks), merged afterwards. The split
// depends only on the token's own n_pos, so its result does not depend on the batch it is in.
constexpr int kMinChunk = 64;
constexpr int kMaxSplits = 32;
__host__ __device__ __forceinline__ int SplitsOf(int n_pos) {
  const int s = (n_pos + kMinChunk - 1) / kMinChunk;
  return s < 1 ? 1 : (s > kMaxSplits ? kMaxSplits : s);
}
__host__ __device__ __forceinline__ int ChunkOf(int n_pos) {
  const int s = SplitsOf(n_pos);
  return (n_pos + s - 1) / s;
}

// grid (n_head, T, max splits); kAttnWarps warps (a template parameter: 4, 8 or 16). Warp w of split s handles positions
// chunk*s + w, + kAttnWarps, ... below min(n_pos, chunk*(s+1)): q·k with the query rounded to
// f16 (as the CPU kernels), online softmax in f32, f32 accumulation of the f16 V rows. The warps
// merge in shared memory; a token with one split writes out[], else (acc, m, l) to partial.
template <int kAttnWarps>
__global__ void AttendKernel(PagedKvDevice g, int layer, int n_head, const float* q,
                             const int32_t* n_pos, const int32_t* table, const int32_t* blocks,
                             float scale, float* out, float* partial) {
  const int h = blockIdx.x, t = blockIdx.y, s = blockIdx.z, max_split = gridDim.z;
  const int n_split = SplitsOf(n_pos[t]), chunk = ChunkOf(n_pos[t]);
  if (s >= n_split) return;
  const int hd = g.head_dim, group = n_head / g.n_kv_heads, kvh = h / group;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const float* qt = q + (static_cast<size_t>(t) * n_head + h) * hd;
  float qr[kPerLane], acc[kPerLane];
  for (int j = 0; j < kPerLane; ++j) {
    const int e = lane + j * kWarp;
    qr[j] = e < hd ? HalfBitsToFloat(FloatToHalfBits(qt[e])) : 0.0f;
    acc[j] = 0.0f;
  }
  const int32_t* bt = blocks + table[t];
  const int p_end = min(n_pos[t], chunk * (s + 1));
  float m = -INFINITY, l = 0.0f;
  for (int p = chunk * s + warp; p < p_end; p += kAttnWarps) {
    const int32_t b = bt[p / g.block_tokens];
    const int sl = p % g.block_tokens;
    const uint16_t* kr = reinterpret_cast<const uint16_t*>(g.base + RowAt(g, layer, b, 0, kvh, sl));
    const uint16_t* vr = reinterpret_cast<const uint16_t*>(g.base + RowAt(g, layer, b, 1, kvh, sl));
    float dot = 0.0f;
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + j * kWarp;
      if (e < hd) dot += qr[j] * HalfBitsToFloat(kr[e]);
    }
    const float sc = WarpSum(dot) * scale;
    const float m_new = fmaxf(m, sc);
    const float c = expf(m - m_new), w = expf(sc - m_new);
    l = l * c + w;
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + j * kWarp;
      if (e < hd) acc[j] = acc[j] * c + w * HalfBitsToFloat(vr[e]);
    }
    m = m_new;
  }
  __shared__ float sm[kAttnWarps], sl_[kAttnWarps], sacc[kAttnWarps][kMaxHeadDim];
  if (lane == 0) sm[warp] = m, sl_[warp] = l;
  for (int j = 0; j < kPerLane; ++j) {
    const int e = lane + j * kWarp;
    if (e < hd) sacc[warp][e] = acc[j];
  }
  __syncthreads();
  float mm = -INFINITY;
  for (int w = 0; w < kAttnWarps; ++w) mm = fmaxf(mm, sm[w]);
  float ll = 0.0f;
  float cw[kAttnWarps];
  for (int w = 0; w < kAttnWarps; ++w) {
    cw[w] = sl_[w] > 0.0f ? expf(sm[w] - mm) : 0.0f;
    ll += sl_[w] * cw[w];
  }
  const size_t item = static_cast<size_t>(t) * n_head + h;
  float* part = partial + (item * max_split + s) * (hd + 2);
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    float a = 0.0f;
    for (int w = 0; w < kAttnWarps; ++w) a += sacc[w][e] * cw[w];
    if (n_split == 1) {
      out[item * hd + e] = ll > 0.0f ? a / ll : 0.0f;
    } else {
      part[e] = a;
    }
  }
  if (n_split > 1 && threadIdx.x == 0) part[hd] = mm, part[hd + 1] = ll;
}

// grid (n_head, T): merges the partial (acc, m, l) of a token split over several blocks.
__global__ void MergeKernel(int n_head, int hd, int max_split, const int32_t* n_pos,
                            const float* partial, float* out) {
  const int n_split = SplitsOf(n_pos[blockIdx.y]);
  if (n_split <= 1) return;
  const size_t item = static_cast<size_t>(blockIdx.y) * n_head + blockIdx.x;
  const float* p = partial + item * max_split * (hd + 2);
  float mm = -INFINITY;
  for (int s = 0; s < n_split; ++s) {
    if (p[s * (hd + 2) + hd + 1] > 0.0f) mm = fmaxf(mm, p[s * (hd + 2) + hd]);
  }
  float ll = 0.0f;
  for (int s = 0; s < n_split; ++s) {
    const float l = p[s * (hd + 2) + hd + 1];
    if (l > 0.0f) ll += l * expf(p[s * (hd + 2) + hd] - mm);
  }
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    float a = 0.0f;
    for (int s = 0; s < n_split; ++s) {
      const float l = p[s * (hd + 2) + hd + 1];
      if (l > 0.0f) a += p[s * (hd + 2) + e] * expf(p[s * (hd + 2) + hd] - mm);
    }
    out[item * hd + e] = ll > 0.0f ? a / ll : 0.0f;
  }
}

int MaxSplits(int max_pos) { return SplitsOf(max_pos); }

// Warps per attention block: 8, or SEMANTIC_CUDA_ATTN_WARPS (4, 8 or 16) for measurements.
// Measured on an H200 (SmolLM2, docs/cuda.md): decode 697 / 771 / 781 t/s at depth 0 and
// 407 / 494 / 475 at 4096 with 4 / 8 / 16; prefill 14356 / 13874 / 12090.
int AttendWarps() {
  const char* env = std::getenv("SEMANTIC_CUDA_ATTN_WARPS");
  const int w = env != nullptr ? std::atoi(env) : 8;
  return w == 4 || w == 16 ? w : 8;
}

}  // namespace

Status StoreKvF16(const PagedKvDevice& g, int layer, const float* k, const float* v, int64_t n_tok,
                  const int32_t* block, const int32_t* slot, uint16_t* stage,
                  cudaStream_t stream) {
  if (n_tok <= 0) return Status::Ok();
  StoreKvKernel<<<static_cast<unsigned>(n_tok), 256, 0, stream>>>(g, layer, k, v, block, slot,
                                                                  stage);
  return LaunchStatus("StoreKvF16");
}

int AttendPagedSplits(int max_pos) { return MaxSplits(max_pos); }

size_t AttendPagedScratchFloats(const PagedKvDevice& g, int64_t n_tok, int n_head, int max_pos) {
  const int n_split = MaxSplits(max_pos);
  return n_split > 1 ? static_cast<size_t>(n_tok) * n_head * n_split * (g.head_dim + 2) : 0;
}

Status AttendPagedF16(const PagedKvDevice& g, int layer, int n_head, const float* q,
                      int64_t n_tok, const int32_t* n_pos, const int32_t* table,
                      const int32_t* blocks, int max_pos, float scale, float* scratch, float* out,
                      cudaStream_t stream) {
  if (n_tok <= 0) return Status::Ok();
  if (g.head_dim > kMaxHeadDim || g.head_dim % 2 != 0 || n_head % g.n_kv_heads != 0) {
    return InvalidArgument("cuda::AttendPagedF16: head_dim must be even and <= 256, and n_head a "
                           "multiple of the KV heads");
  }
  if (n_tok > 65535) return InvalidArgument("cuda::AttendPagedF16: n_tok > 65535 (grid y)");
  const int n_split = MaxSplits(max_pos);
  const dim3 grid(n_head, static_cast<unsigned>(n_tok), n_split);
  static const int warps = AttendWarps();
  if (warps == 16) {
    AttendKernel<16><<<grid, 16 * kWarp, 0, stream>>>(g, layer, n_head, q, n_pos, table, blocks,
                                                      scale, out, scratch);
  } else if (warps == 8) {
    AttendKernel<8><<<grid, 8 * kWarp, 0, stream>>>(g, layer, n_head, q, n_pos, table, blocks,
                                                    scale, out, scratch);
  } else {
    AttendKernel<4><<<grid, 4 * kWarp, 0, stream>>>(g, layer, n_head, q, n_pos, table, blocks,
                                                    scale, out, scratch);
  }
  if (Status st = LaunchStatus("AttendPagedF16"); !st.ok() || n_split == 1) return st;
  MergeKernel<<<dim3(n_head, static_cast<unsigned>(n_tok)), 128, 0, stream>>>(
      n_head, g.head_dim, n_split, n_pos, scratch, out);
  return LaunchStatus("AttendPagedF16 merge");
}

}  // namespace semantic::kernels::cuda

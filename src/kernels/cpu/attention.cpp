// Dispatch for paged attention: AVX2/F16C or AVX-512 (f16 K/V) or AVX2 / AVX-512 VNNI (q8_0, q4_0
// K/V) when the CPU has it and the shape fits, else scalar; tiles of prefill tokens over f16 K/V
// take the tiled kernel (AVX2, or AVX-512 with the same results).
#include "kernels/attention.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels {
namespace {
bool UseAvx2() {
  static const bool use = [] {
    const char* env = std::getenv("SEMANTIC_KERNELS");
    if (env && std::strcmp(env, "scalar") == 0) return false;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu::CpuHasF16c();
  }();
  return use;
}

using Kernel = void (*)(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* partial_m, float* partial_l);

bool UseAvx512() {
  static const bool use = [] {
    const cpu::KernelSet* ks = cpu::ActiveKernelSet();
    return ks != nullptr && ks->avx512;
  }();
  return use;
}

// The SIMD kernel for this dtype and shape, or nullptr (use the reference).
Kernel FastKernel(const PagedHeadKv& kv, int n_q) {
  if (!UseAvx2() || kv.head_dim > 512 || n_q > 16) return nullptr;
  if (kv.dtype == KvDtype::kF16) {
    if (kv.head_dim % 8 != 0) return nullptr;
    return UseAvx512() ? cpu::AttendGroupAvx512 : cpu::AttendGroupAvx2;
  }
  if (kv.head_dim % 32 != 0) return nullptr;
  return UseAvx512() ? cpu::AttendGroupQuantizedAvx512 : cpu::AttendGroupQuantizedAvx2;
}

// The tiled kernel for this tile, or nullptr (one AttendGroup call per token). It exists where
// the single-token call would take the f16 kernel (AttendGroupAvx2, or AttendGroupAvx512 with the
// same bits), whose arithmetic it repeats.
using TileKernel = void (*)(const PagedHeadKv& kv, const QueryTile& tile, float scale,
                            float* scratch);
TileKernel FastTileKernel(const PagedHeadKv& kv, const QueryTile& tile) {
  const Kernel single = FastKernel(kv, tile.n_q);
  if (single != cpu::AttendGroupAvx2 && single != cpu::AttendGroupAvx512) return nullptr;
  // One token (decode) gains nothing from sharing K/V conversions: the single-token kernel.
  if (tile.n_tok == 1 || tile.n_tok * tile.n_q > kMaxTileRows) return nullptr;
  return UseAvx512() ? cpu::AttendTileAvx512 : cpu::AttendTileAvx2;
}

// Runs a SIMD kernel, with q rotated into the cache's space and the output rotated back for the
// quantized dtypes (kv_dtype.h).
void RunFast(Kernel k, const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
             float* scratch, float* out, float* m, float* l) {
  const KvRotation rot = KvRotationFor(kv.dtype, kv.head_dim);
  if (rot.k == 0) return k(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  const int n = n_q * kv.head_dim;
  float q_rot[16 * 512];  // [n_q][head_dim]; FastKernel bounds both
  std::copy(q, q + n, q_rot);
  HadamardRotate(q_rot, n, rot.k);
  k(kv, q_rot, n_q, n_pos, scale, scratch, out, m, l);
  HadamardRotate(out, n, rot.v);
}

}  // namespace

void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out) {
  if (Kernel k = FastKernel(kv, n_q)) {
    RunFast(k, kv, q, n_q, n_pos, scale, scratch, out, nullptr, nullptr);
  } else {
    ref::AttendGroup(kv, q, n_q, n_pos, scale, scratch, out);
  }
}

void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l) {
  if (Kernel k = FastKernel(kv, n_q)) {
    RunFast(k, kv, q, n_q, n_pos, scale, scratch, out, m, l);
  } else {
    ref::AttendGroupPartial(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  }
}

size_t AttendTileScratch(const PagedHeadKv& kv, const QueryTile& tile) {
  const int n_max = *std::max_element(tile.n_pos, tile.n_pos + tile.n_tok);
  return static_cast<size_t>(tile.n_tok) * tile.n_q * (n_max + kv.head_dim);
}

void AttendTile(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch) {
  if (TileKernel k = FastTileKernel(kv, tile)) return k(kv, tile, scale, scratch);
  for (int t = 0; t < tile.n_tok; ++t) {
    if (tile.m[t] == nullptr) {
      AttendGroup(kv, tile.q[t], tile.n_q, tile.n_pos[t], scale, scratch, tile.out[t]);
    } else {
      AttendGroupPartial(kv, tile.q[t], tile.n_q, tile.n_pos[t], scale, scratch, tile.out[t],
                         tile.m[t], tile.l[t]);
    }
  }
}

}  // namespace semantic::kernels

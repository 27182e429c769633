// Runtime ISA selection: builds each kernel set once and picks the best one this CPU supports.
#include <cpuid.h>

#include <cstdlib>
#include <cstring>

#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels::cpu {

bool CpuHasF16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}

namespace {

bool CpuHasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c() &&
         __builtin_cpu_supports("bmi2");
}

bool CpuHasAvx512() {
  return CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

const KernelSet* BuildAvx2() {
  static const KernelSet* ks = [] {
    auto* k = new KernelSet;
    k->name = "avx2";
    FillKernelSetAvx2(k);
    return k;
  }();
  return ks;
}

const KernelSet* BuildAvx512() {
  static const KernelSet* ks = [] {
    auto* k = new KernelSet;
    FillKernelSetAvx2(k);  // AVX-512 entries override where they exist
    k->name = "avx512";
    k->avx512 = true;
    FillKernelSetAvx512(k);
    return k;
  }();
  return ks;
}

const KernelSet* BuildAmx() {
  static const KernelSet* ks = [] {
    auto* k = new KernelSet(*BuildAvx512());  // AMX tiles override the batched Q4/Q8 entries
    k->name = "amx";
    FillQ32Amx(k);
    return k;
  }();
  return ks;
}

}  // namespace

const KernelSet* KernelSetFor(const char* isa) {
  if (std::strcmp(isa, "amx") == 0) return CpuHasAvx512() && AmxUsable() ? BuildAmx() : nullptr;
  if (std::strcmp(isa, "avx512") == 0) return CpuHasAvx512() ? BuildAvx512() : nullptr;
  if (std::strcmp(isa, "avx2") == 0) return CpuHasAvx2() ? BuildAvx2() : nullptr;
  return nullptr;
}

const KernelSet* ActiveKernelSet() {
  static const KernelSet* active = [] {
    const char* env = std::getenv("SEMANTIC_KERNELS");
    if (env != nullptr && std::strcmp(env, "scalar") == 0)
      return static_cast<const KernelSet*>(nullptr);
    if (env != nullptr && std::strcmp(env, "avx2") == 0) return KernelSetFor("avx2");
    if (env != nullptr && std::strcmp(env, "avx512") == 0) {
      if (const KernelSet* ks = KernelSetFor("avx512")) return ks;
      return KernelSetFor("avx2");
    }
    if (const KernelSet* ks = KernelSetFor("amx")) return ks;
    if (const KernelSet* ks = KernelSetFor("avx512")) return ks;
    return KernelSetFor("avx2");
  }();
  return active;
}

}  // namespace semantic::kernels::cpu

namespace semantic::kernels {

const char* ActiveIsa() {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  return ks ? ks->name : "scalar";
}

}  // namespace semantic::kernels

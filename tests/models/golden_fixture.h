// Golden fixtures written by scripts/make_golden.py and scripts/make_tiny_golden.py: llama.cpp's
// tokens, top-5 logits, decode-path top-1 and greedy continuation per case, and the near-tie
// threshold the model tests share.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/thread_pool.h"
#include "loader/gguf/gguf_file.h"
#include "models/model.h"
#ifdef SEMANTIC_HAVE_CUDA
#include "models/cuda/llama_cuda.h"
#endif

namespace semantic::testing {

// Near-tie threshold (logits): where llama.cpp's own top-1/top-2 gap is below this, llama.cpp
// itself flips its choice between its batched and one-token-at-a-time paths (see the fixtures'
// decode_path_top1), so a different but equally valid float order may flip it too.
constexpr float kNearTie = 0.25f;

struct GoldenCase {
  std::vector<int32_t> tokens;
  std::vector<std::vector<std::pair<int32_t, float>>> top5;  // per position, llama.cpp's
  std::vector<int32_t> decode_path_top1;  // llama.cpp's top-1 when decoding token by token
  std::vector<int32_t> greedy;
  std::vector<float> greedy_gap;  // llama.cpp's top-1 minus top-2 logit at each greedy step
};

inline std::vector<GoldenCase> ParseGoldenCases(const nlohmann::json& j) {
  std::vector<GoldenCase> cases;
  for (const auto& c : j["cases"]) {
    GoldenCase g;
    g.tokens = c["tokens"].get<std::vector<int32_t>>();
    g.greedy = c["greedy"].get<std::vector<int32_t>>();
    g.greedy_gap = c["greedy_gap"].get<std::vector<float>>();
    g.decode_path_top1 = c["decode_path_top1"].get<std::vector<int32_t>>();
    for (const auto& row : c["top5"]) {
      std::vector<std::pair<int32_t, float>> r;
      for (const auto& e : row) r.emplace_back(e[0].get<int32_t>(), e[1].get<float>());
      g.top5.push_back(r);
    }
    cases.push_back(std::move(g));
  }
  return cases;
}

// SEMANTIC_TEST_DEVICE=cuda runs the golden tests' model on the CUDA GPU (models/cuda;
// scripts/cuda_check.sh sets it); otherwise on the CPU.
inline bool TestOnCuda() {
  const char* env = std::getenv("SEMANTIC_TEST_DEVICE");
  return env != nullptr && std::string(env) == "cuda";
}

// The model for a golden test on the test device. Unimplemented (the test skips with it) where
// the CUDA path lacks the architecture, weight type or build.
inline Expected<std::unique_ptr<models::Model>> LoadOnTestDevice(const loader::GgufFile& f,
                                                                 ThreadPool& pool) {
  auto m = models::LoadModel(f, pool);
  if (m.ok() && !TestOnCuda()) (*m)->PackWeights(f);  // as the server loads it
  if (!m.ok() || !TestOnCuda()) return m;
#ifdef SEMANTIC_HAVE_CUDA
  return models::cuda::MoveToCuda(std::move(*m));
#else
  return Unimplemented("SEMANTIC_TEST_DEVICE=cuda, but this build has no CUDA support");
#endif
}

inline std::string SourceDir() {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  return env ? env : SEMANTIC_SOURCE_DIR;
}

}  // namespace semantic::testing

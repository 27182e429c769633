// Mixture-of-experts FFN as llama.cpp's build_moe_ffn computes it: a router picks the top-k
// experts of each token, their SwiGLU FFN outputs are summed with the router weights, plus the
// always-on shared experts.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "kernels/packed_weights.h"
#include "loader/gguf/gguf_file.h"

namespace semantic::models {

struct MoeConfig {
  int n_expert = 0;
  int n_expert_used = 0;  // top-k
  int n_ff_expert = 0;    // each routed expert's FFN width
  int n_ff_shared = 0;    // shared experts' FFN width (n_expert_shared * n_ff_expert), 0 if none
  bool sigmoid_gating = false;  // expert_gating_func 2; else softmax over all experts
  bool norm_weights = false;    // divide the k weights by their sum (expert_weights_norm)
  float weights_scale = 0.0f;   // multiply them by it when != 0 (expert_weights_scale)
  // gpt-oss (llama.cpp's SOFTMAX_WEIGHT gating and LLM_FFN_SWIGLU_OAI_MOE): the top k of the raw
  // router logits, weighted by a softmax over those k; router and expert biases; the clamped
  // SwiGLU min(g, limit)·sigmoid(alpha·min(g, limit))·(clamp(u, ±limit) + 1).
  bool softmax_after_topk = false;
  bool biases = false;  // ffn_gate_inp / ffn_{gate,up,down}_exps .bias tensors
  bool oai_swiglu = false;
  float swiglu_alpha = 1.702f, swiglu_limit = 7.0f;
};

// Reads the `<arch>.expert_*` keys (model-formats.md §2.0) into c; n_expert_shared may be 0.
Status ReadMoeConfig(const loader::GgufFile& f, const std::string& arch, MoeConfig* c);

// One MoE layer: blk.<i>.{ffn_gate_inp, ffn_{gate,up,down}_exps, ffn_{gate,up,down}_shexp}.
struct MoeLayerWeights {
  kernels::WeightView router;                   // {n_embd, n_expert}
  std::vector<kernels::WeightView> gate, up;    // per expert {n_embd, n_ff_expert}
  std::vector<kernels::WeightView> down;        // per expert {n_ff_expert, n_embd}
  kernels::WeightView gate_sh, up_sh, down_sh;  // shared experts (when n_ff_shared > 0)
  // When c.biases: router [n_expert], gate/up [n_expert][n_ff_expert], down [n_expert][n_embd].
  std::vector<float> router_b, gate_b, up_b, down_b;
};
Expected<MoeLayerWeights> LoadMoeLayer(const loader::GgufFile& f, const MoeConfig& c, int n_embd,
                                       int i);
// PackMatrix (models/weights.h) for the experts' and shared experts' matrices.
void PackMoeLayer(const loader::GgufFile& f, MoeLayerWeights* w, kernels::PackedWeights* store);

// Scratch reused across calls.
struct MoeScratch {
  std::vector<float> probs;             // [T][n_expert]
  std::vector<int32_t> chosen;          // [T][k] expert ids, best first
  std::vector<float> weight;            // [T][k]
  std::vector<int64_t> rows;            // tokens routed to one expert
  std::vector<float> xin, gate, up, y;  // gathered rows: [n][n_embd], [n][n_ff] x2, [n][n_embd]
  std::vector<float> out_k;             // [T][k][n_embd] each chosen expert's weighted output
};

// out[t] = sum_k w[t][k] * expert_k(x[t]) + shared(x[t]); x, out: [T][n_embd] (may alias).
void MoeFfn(const MoeLayerWeights& w, const MoeConfig& c, const float* x, int64_t T, int n_embd,
            float* out, MoeScratch* s, ThreadPool& pool);

}  // namespace semantic::models

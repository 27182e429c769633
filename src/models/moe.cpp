// Mixture-of-experts FFN (moe.h): routing, per-expert batched SwiGLU over the tokens routed to
// it, weighted sum in the order the experts were chosen, shared experts.
#include "models/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "models/layers.h"
#include "models/transformer_gguf.h"
#include "models/weights.h"

namespace semantic::models {

Status ReadMoeConfig(const loader::GgufFile& f, const std::string& arch, MoeConfig* c) {
  const std::string a = arch + ".";
  c->n_expert = static_cast<int>(f.GetIntOr(a + "expert_count", 0));
  c->n_expert_used = static_cast<int>(f.GetIntOr(a + "expert_used_count", 0));
  c->n_ff_expert = static_cast<int>(f.GetIntOr(a + "expert_feed_forward_length", 0));
  const int64_t n_shared = f.GetIntOr(a + "expert_shared_count", 0);
  if (c->n_expert <= 0 || c->n_expert > 4096 || c->n_expert_used <= 0 ||
      c->n_expert_used > c->n_expert || c->n_ff_expert <= 0 || c->n_ff_expert > (1 << 24) ||
      n_shared < 0 || n_shared > 64) {
    return InvalidArgument(
        f.path() + ": inconsistent expert hparams (experts " + std::to_string(c->n_expert) +
        ", used " + std::to_string(c->n_expert_used) + ", expert FFN " +
        std::to_string(c->n_ff_expert) + ", shared " + std::to_string(n_shared) + ")");
  }
  c->n_ff_shared = static_cast<int>(n_shared) * c->n_ff_expert;
  // Files without the key (DeepSeek-V2) use softmax, as llama.cpp defaults them.
  c->sigmoid_gating = f.GetIntOr(a + "expert_gating_func", 1) == 2;
  c->norm_weights = f.GetBoolOr(a + "expert_weights_norm", false);
  c->weights_scale = static_cast<float>(f.GetFloatOr(a + "expert_weights_scale", 0.0));
  return Status::Ok();
}

void PackMoeLayer(const loader::GgufFile& f, MoeLayerWeights* w, kernels::PackedWeights* store) {
  for (std::vector<kernels::WeightView>* ws : {&w->gate, &w->up, &w->down})
    for (kernels::WeightView& m : *ws) PackMatrix(f, &m, store);
  for (kernels::WeightView* m : {&w->gate_sh, &w->up_sh, &w->down_sh}) PackMatrix(f, m, store);
}

Expected<MoeLayerWeights> LoadMoeLayer(const loader::GgufFile& f, const MoeConfig& c, int n_embd,
                                       int i) {
  MoeLayerWeights w;
  ASSIGN_OR_RETURN(w.router, GetMatrix(f, BlockTensor(i, "ffn_gate_inp"), n_embd, c.n_expert));
  ASSIGN_OR_RETURN(w.gate, GetMatrixStack(f, BlockTensor(i, "ffn_gate_exps"), n_embd, c.n_ff_expert,
                                          c.n_expert));
  ASSIGN_OR_RETURN(
      w.up, GetMatrixStack(f, BlockTensor(i, "ffn_up_exps"), n_embd, c.n_ff_expert, c.n_expert));
  ASSIGN_OR_RETURN(w.down, GetMatrixStack(f, BlockTensor(i, "ffn_down_exps"), c.n_ff_expert, n_embd,
                                          c.n_expert));
  if (c.biases) {
    const int64_t E = c.n_expert, F = c.n_ff_expert;
    ASSIGN_OR_RETURN(w.router_b, GetVector(f, BlockTensor(i, "ffn_gate_inp", "bias"), E));
    ASSIGN_OR_RETURN(w.gate_b, GetVector(f, BlockTensor(i, "ffn_gate_exps", "bias"), E * F));
    ASSIGN_OR_RETURN(w.up_b, GetVector(f, BlockTensor(i, "ffn_up_exps", "bias"), E * F));
    ASSIGN_OR_RETURN(w.down_b, GetVector(f, BlockTensor(i, "ffn_down_exps", "bias"), E * n_embd));
  }
  if (c.n_ff_shared > 0) {
    ASSIGN_OR_RETURN(w.gate_sh,
                     GetMatrix(f, BlockTensor(i, "ffn_gate_shexp"), n_embd, c.n_ff_shared));
    ASSIGN_OR_RETURN(w.up_sh, GetMatrix(f, BlockTensor(i, "ffn_up_shexp"), n_embd, c.n_ff_shared));
    ASSIGN_OR_RETURN(w.down_sh,
                     GetMatrix(f, BlockTensor(i, "ffn_down_shexp"), c.n_ff_shared, n_embd));
  }
  return w;
}

namespace {

// probs[t] = softmax (or sigmoid, or the raw logits for softmax_after_topk) of the router logits
// (plus router bias); chosen[t] = the k largest, best first
// (ties: lower expert id first); weight[t] = their probs, renormalized and scaled as configured.
void Route(const MoeLayerWeights& w, const MoeConfig& c, const float* x, int64_t T, MoeScratch* s,
           ThreadPool& pool) {
  const int E = c.n_expert, K = c.n_expert_used;
  s->probs.resize(T * E);
  s->chosen.resize(T * K);
  s->weight.resize(T * K);
  kernels::MatMul(w.router, x, T, s->probs.data(), pool);
  if (!w.router_b.empty()) AddBias(s->probs.data(), w.router_b.data(), T, E);
  std::vector<int32_t> order(E);
  for (int64_t t = 0; t < T; ++t) {
    float* p = &s->probs[t * E];
    if (c.softmax_after_topk) {
      // Raw logits are ranked; the weights are their softmax over the chosen k (below).
    } else if (c.sigmoid_gating) {
      for (int e = 0; e < E; ++e) p[e] = 1.0f / (1.0f + std::exp(-p[e]));
    } else {
      const float mx = *std::max_element(p, p + E);
      double sum = 0.0;
      for (int e = 0; e < E; ++e) {
        p[e] = std::exp(p[e] - mx);
        sum += p[e];
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int e = 0; e < E; ++e) p[e] *= inv;
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
      s->chosen[t * K + k] = order[k];
      s->weight[t * K + k] = p[order[k]];
      sum += p[order[k]];
    }
    if (c.softmax_after_topk) {  // order[0] holds the largest logit
      double z = 0.0;
      for (int k = 0; k < K; ++k) {
        s->weight[t * K + k] = std::exp(p[order[k]] - p[order[0]]);
        z += s->weight[t * K + k];
      }
      for (int k = 0; k < K; ++k) s->weight[t * K + k] *= static_cast<float>(1.0 / z);
      sum = 1.0f;
    }
    for (int k = 0; k < K; ++k) {
      if (c.norm_weights) s->weight[t * K + k] /= sum;
      if (c.weights_scale != 0.0f) s->weight[t * K + k] *= c.weights_scale;
    }
  }
}

// Expert e on the n gathered rows s->xin -> s->y, with the expert biases (when present) and the
// clamped SwiGLU when c.oai_swiglu (else plain SwiGLU).
void ExpertFfnBiased(const MoeLayerWeights& w, const MoeConfig& c, int e, int64_t n, int n_embd,
                     MoeScratch* s, ThreadPool& pool) {
  const int F = c.n_ff_expert;
  kernels::MatMulShared({{&w.gate[e], s->gate.data()}, {&w.up[e], s->up.data()}}, s->xin.data(), n,
                        pool);
  if (!w.gate_b.empty()) {
    AddBias(s->gate.data(), &w.gate_b[static_cast<size_t>(e) * F], n, F);
    AddBias(s->up.data(), &w.up_b[static_cast<size_t>(e) * F], n, F);
  }
  if (c.oai_swiglu) {
    const float alpha = c.swiglu_alpha, limit = c.swiglu_limit;
    for (int64_t i = 0; i < n * F; ++i) {
      const float g = std::min(s->gate[i], limit);
      const float u = std::max(-limit, std::min(s->up[i], limit));
      s->gate[i] = g / (1.0f + std::exp(-alpha * g)) * (u + 1.0f);
    }
  } else {
    SwiGlu(s->gate.data(), s->up.data(), n * F);
  }
  kernels::MatMul(w.down[e], s->gate.data(), n, s->y.data(), pool);
  if (!w.down_b.empty()) AddBias(s->y.data(), &w.down_b[static_cast<size_t>(e) * n_embd], n, n_embd);
}

}  // namespace

void MoeFfn(const MoeLayerWeights& w, const MoeConfig& c, const float* x, int64_t T, int n_embd,
            float* out, MoeScratch* s, ThreadPool& pool) {
  const int K = c.n_expert_used;
  Route(w, c, x, T, s, pool);
  s->out_k.resize(T * K * n_embd);
  for (int e = 0; e < c.n_expert; ++e) {
    s->rows.clear();  // (t * K + k) of every slot that chose e
    for (int64_t r = 0; r < T * K; ++r) {
      if (s->chosen[r] == e) s->rows.push_back(r);
    }
    const int64_t n = static_cast<int64_t>(s->rows.size());
    if (n == 0) continue;
    s->xin.resize(n * n_embd);
    s->y.resize(n * n_embd);
    for (int64_t j = 0; j < n; ++j) {
      std::copy_n(x + (s->rows[j] / K) * n_embd, n_embd, &s->xin[j * n_embd]);
    }
    s->gate.resize(n * c.n_ff_expert);
    s->up.resize(n * c.n_ff_expert);
    if (c.biases || c.oai_swiglu) {
      ExpertFfnBiased(w, c, e, n, n_embd, s, pool);
    } else {
      SwiGluFfn(w.gate[e], w.up[e], w.down[e], s->xin.data(), n, s->gate.data(), s->up.data(),
                s->y.data(), pool);
    }
    for (int64_t j = 0; j < n; ++j) {
      const float wt = s->weight[s->rows[j]];
      float* o = &s->out_k[s->rows[j] * n_embd];
      for (int i = 0; i < n_embd; ++i) o[i] = s->y[j * n_embd + i] * wt;
    }
  }
  // The shared FFN reads x before out is written (out may alias x).
  if (c.n_ff_shared > 0) {
    s->y.resize(T * n_embd);
    s->gate.resize(T * c.n_ff_shared);
    s->up.resize(T * c.n_ff_shared);
    SwiGluFfn(w.gate_sh, w.up_sh, w.down_sh, x, T, s->gate.data(), s->up.data(), s->y.data(), pool);
  }
  // Sum in the order chosen (llama.cpp adds the k views one after another), then the shared FFN.
  for (int64_t t = 0; t < T; ++t) {
    float* o = out + t * n_embd;
    std::copy_n(&s->out_k[t * K * n_embd], n_embd, o);
    for (int k = 1; k < K; ++k) {
      const float* src = &s->out_k[(t * K + k) * n_embd];
      for (int i = 0; i < n_embd; ++i) o[i] += src[i];
    }
    if (c.n_ff_shared > 0) {
      for (int i = 0; i < n_embd; ++i) o[i] += s->y[t * n_embd + i];
    }
  }
}

}  // namespace semantic::models

// The model-independent steps of a batched forward pass: flattening the batch into token rows,
// storing K/V and attending per sequence, and computing logits for the rows that need them.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "kv/kv_pool.h"
#include "models/model.h"

namespace semantic::models {

// One step's buffers, reused across calls. tokens/pos: [T]; x/xn: [T][n_embd]; q/attn:
// [T][n_head*head_dim]; k/v: [T][n_head_kv*head_dim]; gate/up: [T][n_ff].
struct Activations {
  std::vector<int32_t> tokens, pos;
  std::vector<float> x, xn, q, k, v, attn, gate, up;
  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
};

// Starts a step: checks that every sequence has tokens, KV room and in-vocabulary ids; fills
// a->tokens and a->pos (T = total new tokens, in batch order) with ids and absolute positions,
// sizes the other buffers for T tokens and sets a->x to the token embeddings times embd_scale.
Status BeginBatch(const std::vector<BatchSeq>& batch, const kv::KvPool& pool, const ModelConfig& c,
                  const kernels::WeightView& tok_embd, float embd_scale, Activations* a);

// Stores this layer's K/V rows of every sequence in its blocks, then runs causal attention for
// all of the batch's queries. q, out: [T][n_head * head_dim]; k, v: [T][n_head_kv * head_dim]
// (v unused, may be null, when the pool's layout has v_from_k).
// window > 0: a query at position p sees only keys at positions > p - window (sliding window).
// sinks: [n_head] attention-sink logits (AttentionArgs::sinks) or null.
void AttendBatch(const std::vector<BatchSeq>& batch, kv::KvPool& pool, int layer, int n_head,
                 float scale, int window, const float* q, const float* k, const float* v,
                 float* out, ThreadPool& threads, const float* sinks = nullptr);

// Logits for every token of all_logits sequences, else each sequence's last token:
// out->data = output · rms(x[row]) · output_norm, [n_rows][n_vocab]; sets out->seq_row.
// x: [T][n_embd]; xn: scratch of at least [n_rows][n_embd].
void ComputeLogits(const std::vector<BatchSeq>& batch, const float* x, int n_embd,
                   const std::vector<float>& output_norm, float eps,
                   const kernels::WeightView& output, int n_vocab, float* xn, Logits* out,
                   ThreadPool& threads);

// Advances every sequence's token count past this step's tokens.
void CommitBatch(const std::vector<BatchSeq>& batch);

// Ends a step: ComputeLogits from the last layer's x with the model's output norm and head,
// c·tanh(logit/c) when softcap c > 0, then CommitBatch.
void FinishBatch(const std::vector<BatchSeq>& batch, const float* x, const ModelConfig& c,
                 const std::vector<float>& output_norm, const kernels::WeightView& output,
                 float softcap, float* xn, Logits* out, ThreadPool& threads);

}  // namespace semantic::models

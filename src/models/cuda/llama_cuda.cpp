// LlamaCudaModel: models::LlamaModel's forward pass (llama, qwen2, qwen3) on a CUDA GPU.
//
// Per step: token embeddings are looked up on the host (BeginBatch, as the CPU path) and
// uploaded; every layer runs on the device; the logits rows come back. KV: the device holds a
// mirror of the host pool (same offsets). Before a step, the blocks holding positions a sequence
// already has are uploaded unless the mirror has them at the pool's current generation
// (kv::KvPool::Generation: raised when a block is allocated or loaded from disk); after it, the
// step's new K/V rows are copied back into the host pool, which stays the master copy that the
// disk tier, prefix sharing and restores read.
#include "models/cuda/llama_cuda.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/log.h"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"
#include "models/batch.h"
#include "models/llama.h"
#include "quant/types.h"

namespace semantic::models::cuda {

namespace kc = kernels::cuda;
using kc::DeviceBuffer;

namespace {

// A weight matrix in device memory: the host view with data pointing at the device copy.
struct DeviceWeight {
  kernels::WeightView view;
  DeviceBuffer buf;
};

Expected<DeviceWeight> UploadWeight(const kernels::WeightView& w, const std::string& name) {
  if (!kc::MatMulSupports(w.type)) {
    return Unimplemented(name + " is " + std::string(quant::GetDTypeInfo(w.type)->name) +
                         ", which has no CUDA matmul yet (CUDA takes Q4_0, Q4_1, Q8_0 and F16 "
                         "weights; docs/cuda.md)");
  }
  DeviceWeight d;
  ASSIGN_OR_RETURN(d.buf, DeviceBuffer::FromHost(w.data, w.row_bytes * w.rows));
  d.view = w;
  d.view.data = d.buf.get();
  return d;
}

Expected<DeviceBuffer> UploadVector(const std::vector<float>& v) {
  if (v.empty()) return DeviceBuffer();
  return DeviceBuffer::FromHost(v.data(), v.size() * sizeof(float));
}

}  // namespace

class LlamaCudaModel : public Model {
 public:
  ~LlamaCudaModel() override {
    if (graph_ != nullptr) cudaGraphExecDestroy(graph_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  static Expected<std::unique_ptr<Model>> Create(std::unique_ptr<Model> cpu, LlamaModel* src);
  Status Forward(const std::vector<BatchSeq>& batch, kv::KvPool& pool, Logits* out) override;
  std::string Device() const override { return "cuda: " + device_name_; }
  Status CheckKvLayout(const kv::KvLayout& l) const override {
    if (l.dtype != kernels::KvDtype::kF16 || l.v_from_k || l.has_sliding()) {
      return Unimplemented(std::string("the CUDA path keeps KV as f16 only so far (kv_dtype = ") +
                           kernels::KvDtypeName(l.dtype) + "); use kv_dtype = f16 or device = cpu");
    }
    return Status::Ok();
  }

 private:
  struct Layer {
    DeviceWeight wq, wk, wv, wo, gate, up, down;
    DeviceBuffer attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm;
  };

  Status Init(const kc::DeviceInfo& dev);
  // Grows *buf to hold at least `bytes` (contents are not kept); a new allocation makes the
  // captured graph stale (buffers_version_).
  Status Ensure(DeviceBuffer* buf, size_t bytes);
  template <typename T>
  Status UploadTo(DeviceBuffer* buf, const std::vector<T>& v) {
    RETURN_IF_ERROR(Ensure(buf, v.size() * sizeof(T)));
    if (v.empty()) return Status::Ok();
    return kc::FromCuda(cudaMemcpyAsync(buf->get(), v.data(), v.size() * sizeof(T),
                                        cudaMemcpyHostToDevice, stream_),
                        "upload");
  }
  // Enqueues the layers and the logits rows on stream_ (R rows; rows_are_tokens: row r is token
  // r, as in a decode step, else rows_ picks them).
  Status Enqueue(int64_t T, int64_t R, bool rows_are_tokens, int max_pos, int n_blocks);
  // Runs Enqueue directly, or for decode-shaped steps as a CUDA graph captured once per shape
  // (tokens, attention splits, buffers) and replayed: one launch instead of ~600.
  Status Run(int64_t T, int64_t R, bool rows_are_tokens, int max_pos, int n_blocks);
  // Mirror of `pool` sized and current for the positions the batch's sequences already hold.
  Status SyncKv(const std::vector<BatchSeq>& batch, const kv::KvPool& pool);
  // The step's K/V rows (stage_, per layer [T][2][kv_dim] f16) into the host pool's blocks.
  Status CopyBackKv(kv::KvPool& pool, int64_t T);

  cudaStream_t stream_ = nullptr;
  // Decode steps as a CUDA graph (SEMANTIC_CUDA_GRAPHS=0 turns it off): the captured graph and
  // the shape it was captured for.
  bool graphs_ = true;
  cudaGraphExec_t graph_ = nullptr;
  struct GraphKey {
    int64_t T = -1;
    int splits = 0, n_blocks = 0;
    uint64_t buffers = 0;
    bool operator==(const GraphKey& o) const {
      return T == o.T && splits == o.splits && n_blocks == o.n_blocks && buffers == o.buffers;
    }
  } graph_key_;
  uint64_t buffers_version_ = 0;

  std::unique_ptr<Model> cpu_;  // owns the host weights (views into the GGUF mapping)
  LlamaModel* src_ = nullptr;   // cpu_, as the decoder it is
  std::string device_name_;
  std::vector<Layer> layers_;
  DeviceWeight output_;
  DeviceBuffer output_norm_;
  int block_tokens_ = 0;  // the pool's, for Enqueue
  size_t matmul_scratch_per_token_ = 0;

  // KV mirror of the pool with id pool_id_: which blocks it holds at which generation.
  uint64_t pool_id_ = 0;
  DeviceBuffer kv_;
  std::vector<uint32_t> kv_gen_;
  std::vector<uint8_t> kv_valid_;
  std::vector<int32_t> read_blocks_;  // SyncKv scratch
  std::vector<uint32_t> read_gens_;

  // Step buffers, grown as needed.
  Activations a_;
  std::vector<int32_t> tok_block_, tok_slot_, n_pos_, table_, ids_;
  std::vector<int64_t> rows_;
  std::vector<uint16_t> stage_host_;
  DeviceBuffer x_, xn_, q_, k_, v_, attn_, gate_, up_, pos_, d_block_, d_slot_, d_n_pos_, d_table_,
      d_ids_, mm_scratch_, attn_scratch_, stage_, rows_x_, logits_;
};

Expected<std::unique_ptr<Model>> LlamaCudaModel::Create(std::unique_ptr<Model> cpu,
                                                        LlamaModel* src) {
  ASSIGN_OR_RETURN(kc::DeviceInfo dev, kc::Probe());
  std::unique_ptr<LlamaCudaModel> m(new LlamaCudaModel());
  m->cpu_ = std::move(cpu);
  m->src_ = src;
  RETURN_IF_ERROR(m->Init(dev));
  return std::unique_ptr<Model>(std::move(m));
}

Status LlamaCudaModel::Init(const kc::DeviceInfo& dev) {
  const LlamaModel& s = *src_;
  config_ = s.config_;
  kv_v_from_k_ = s.kv_v_from_k_;
  kv_window_ = s.kv_window_;
  kv_sliding_layers_ = s.kv_sliding_layers_;
  device_name_ = dev.name;
  RETURN_IF_ERROR(kc::FromCuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking),
                               "cudaStreamCreate"));
  const char* graphs = std::getenv("SEMANTIC_CUDA_GRAPHS");
  graphs_ = graphs == nullptr || std::string(graphs) != "0";
  const ModelConfig& c = config_;
  if (c.head_dim > 256) {
    return Unimplemented("head size " + std::to_string(c.head_dim) +
                         " > 256 has no CUDA attention kernel yet");
  }
  layers_.resize(c.n_layers);
  auto grow_scratch = [&](const kernels::WeightView& w) {
    matmul_scratch_per_token_ = std::max(matmul_scratch_per_token_, kc::MatMulScratchBytes(w, 1));
  };
  for (int il = 0; il < c.n_layers; ++il) {
    const LlamaModel::Layer& L = s.layers_[il];
    if (L.moe) {
      return Unimplemented(c.arch + ": MoE FFNs have no CUDA path yet (docs/cuda.md)");
    }
    Layer& D = layers_[il];
    const std::string blk = "blk." + std::to_string(il) + ".";
    ASSIGN_OR_RETURN(D.wq, UploadWeight(L.wq, blk + "attn_q"));
    ASSIGN_OR_RETURN(D.wk, UploadWeight(L.wk, blk + "attn_k"));
    ASSIGN_OR_RETURN(D.wv, UploadWeight(L.wv, blk + "attn_v"));
    ASSIGN_OR_RETURN(D.wo, UploadWeight(L.wo, blk + "attn_output"));
    ASSIGN_OR_RETURN(D.gate, UploadWeight(L.w_gate, blk + "ffn_gate"));
    ASSIGN_OR_RETURN(D.up, UploadWeight(L.w_up, blk + "ffn_up"));
    ASSIGN_OR_RETURN(D.down, UploadWeight(L.w_down, blk + "ffn_down"));
    for (const DeviceWeight* w : {&D.wq, &D.wk, &D.wv, &D.wo, &D.gate, &D.up, &D.down}) {
      grow_scratch(w->view);
    }
    ASSIGN_OR_RETURN(D.attn_norm, UploadVector(L.attn_norm));
    ASSIGN_OR_RETURN(D.ffn_norm, UploadVector(L.ffn_norm));
    ASSIGN_OR_RETURN(D.bq, UploadVector(L.bq));
    ASSIGN_OR_RETURN(D.bk, UploadVector(L.bk));
    ASSIGN_OR_RETURN(D.bv, UploadVector(L.bv));
    ASSIGN_OR_RETURN(D.q_norm, UploadVector(L.q_norm));
    ASSIGN_OR_RETURN(D.k_norm, UploadVector(L.k_norm));
  }
  ASSIGN_OR_RETURN(output_, UploadWeight(s.head_.output, "output"));
  grow_scratch(output_.view);
  ASSIGN_OR_RETURN(output_norm_, UploadVector(s.head_.output_norm));
  return Status::Ok();
}

Status LlamaCudaModel::Ensure(DeviceBuffer* buf, size_t bytes) {
  if (buf->bytes() >= bytes && buf->get() != nullptr) return Status::Ok();
  RETURN_IF_ERROR(kc::FromCuda(cudaStreamSynchronize(stream_), "sync"));  // in-flight readers
  buf->Reset();
  ASSIGN_OR_RETURN(*buf, DeviceBuffer::Alloc(std::max<size_t>(bytes, 256)));
  ++buffers_version_;
  return Status::Ok();
}

Status LlamaCudaModel::SyncKv(const std::vector<BatchSeq>& batch, const kv::KvPool& pool) {
  const kv::KvLayout& L = pool.layout();
  const int bt = L.block_tokens, n_blocks = pool.n_blocks();
  const size_t per_kv = static_cast<size_t>(bt) * L.row_bytes();
  if (pool.id() != pool_id_) {
    RETURN_IF_ERROR(kc::FromCuda(cudaStreamSynchronize(stream_), "sync"));
    kv_.Reset();
    const size_t bytes = static_cast<size_t>(L.n_layers) * n_blocks * 2 * per_kv;
    auto mirror = DeviceBuffer::Alloc(bytes);
    if (!mirror.ok()) {
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      return ResourceExhausted("the GPU copy of the KV pool needs " +
                               std::to_string(bytes >> 20) + " MiB, " +
                               std::to_string(free_b >> 20) + " MiB of GPU memory are free (" +
                               mirror.status().message() +
                               "): lower model.cache_budget or the context length");
    }
    kv_ = std::move(*mirror);
    ++buffers_version_;
    kv_gen_.assign(n_blocks, 0);
    kv_valid_.assign(n_blocks, 0);
    pool_id_ = pool.id();
  }
  // The blocks holding positions the step reads before writing, and their generations (one
  // lock for all: a long context has thousands of blocks).
  read_blocks_.clear();
  for (const BatchSeq& s : batch) {
    const int filled = (s.kv->n_tokens + bt - 1) / bt;
    read_blocks_.insert(read_blocks_.end(), s.kv->blocks.begin(), s.kv->blocks.begin() + filled);
  }
  read_gens_.resize(read_blocks_.size());
  pool.Generations(read_blocks_.data(), static_cast<int>(read_blocks_.size()), read_gens_.data());
  std::vector<int32_t> stale;
  std::vector<uint32_t> stale_gen;
  for (size_t i = 0; i < read_blocks_.size(); ++i) {
    const int32_t b = read_blocks_[i];
    if (!kv_valid_[b] || kv_gen_[b] != read_gens_[i]) {
      stale.push_back(b);
      stale_gen.push_back(read_gens_[i]);
    }
  }
  if (stale.empty()) return Status::Ok();
  // Marked current only once every copy is queued: a failed copy leaves its blocks stale, so a
  // later step uploads them instead of attending old rows.
  auto mark = [&] {
    for (size_t i = 0; i < stale.size(); ++i) {
      kv_gen_[stale[i]] = stale_gen[i];
      kv_valid_[stale[i]] = 1;
    }
  };
  std::vector<int32_t> ids = stale;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const uint8_t* host = pool.K(0, 0);  // the pool's first byte: block 0 of layer 0
  for (size_t r0 = 0, r1; r0 < ids.size(); r0 = r1) {
    r1 = r0 + 1;  // a run of consecutive block ids is one copy per layer
    while (r1 < ids.size() && ids[r1] == ids[r1 - 1] + 1) ++r1;
    const size_t len = (r1 - r0) * 2 * per_kv;
    for (int l = 0; l < L.n_layers; ++l) {
      const size_t off = (static_cast<size_t>(l) * n_blocks + ids[r0]) * 2 * per_kv;
      RETURN_IF_ERROR(kc::FromCuda(cudaMemcpyAsync(kv_.as<uint8_t>() + off, host + off, len,
                                                   cudaMemcpyHostToDevice, stream_),
                                   "KV upload"));
    }
  }
  mark();
  return Status::Ok();
}

Status LlamaCudaModel::CopyBackKv(kv::KvPool& pool, int64_t T) {
  const kv::KvLayout& L = pool.layout();
  const int hd = L.head_dim, kv_dim = L.kv_dim();
  stage_host_.resize(static_cast<size_t>(L.n_layers) * T * 2 * kv_dim);
  RETURN_IF_ERROR(kc::FromCuda(cudaMemcpyAsync(stage_host_.data(), stage_.get(),
                                               stage_host_.size() * sizeof(uint16_t),
                                               cudaMemcpyDeviceToHost, stream_),
                               "KV download"));
  RETURN_IF_ERROR(kc::FromCuda(cudaStreamSynchronize(stream_), "sync"));
  for (int l = 0; l < L.n_layers; ++l) {
    for (int64_t t = 0; t < T; ++t) {
      const uint16_t* row = stage_host_.data() + ((static_cast<size_t>(l) * T + t) * 2) * kv_dim;
      uint8_t* kd = pool.K(tok_block_[t], l);
      uint8_t* vd = pool.V(tok_block_[t], l);
      for (int h = 0; h < L.n_kv_heads; ++h) {
        const size_t off = kv::KvPool::RowOffset(L, h, tok_slot_[t]);
        std::memcpy(kd + off, row + h * hd, hd * sizeof(uint16_t));
        std::memcpy(vd + off, row + kv_dim + h * hd, hd * sizeof(uint16_t));
      }
    }
  }
  read_gens_.resize(T);  // the mirror holds what the host now holds
  pool.Generations(tok_block_.data(), static_cast<int>(T), read_gens_.data());
  for (int64_t t = 0; t < T; ++t) {
    kv_gen_[tok_block_[t]] = read_gens_[t];
    kv_valid_[tok_block_[t]] = 1;
  }
  return Status::Ok();
}

Status LlamaCudaModel::Forward(const std::vector<BatchSeq>& batch, kv::KvPool& pool,
                               Logits* out) {
  const ModelConfig& c = config_;
  RETURN_IF_ERROR(CheckKvLayout(pool.layout()));
  RETURN_IF_ERROR(BeginBatch(batch, pool, c, src_->head_.tok_embd, 1.0f, &a_));
  const int64_t T = a_.n_tokens();
  if (T > 65535) return InvalidArgument("a CUDA step takes at most 65535 tokens");
  const kv::KvLayout& KL = pool.layout();
  const int bt = KL.block_tokens;
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim, kv_dim = KL.kv_dim();
  RETURN_IF_ERROR(SyncKv(batch, pool));

  // Per token: its block and in-block slot, how many positions it attends, its block table.
  tok_block_.resize(T);
  tok_slot_.resize(T);
  n_pos_.resize(T);
  table_.resize(T);
  ids_.clear();
  rows_.clear();
  out->seq_row.clear();
  int max_pos = 0;
  int64_t t = 0;
  for (const BatchSeq& s : batch) {
    const int first = static_cast<int>(ids_.size());
    ids_.insert(ids_.end(), s.kv->blocks.begin(), s.kv->blocks.end());
    out->seq_row.push_back(static_cast<int>(rows_.size()));
    for (int i = 0; i < s.n_tokens; ++i, ++t) {
      const int p = s.kv->n_tokens + i;
      tok_block_[t] = s.kv->blocks[p / bt];
      tok_slot_[t] = p % bt;
      n_pos_[t] = p + 1;
      table_[t] = first;
      max_pos = std::max(max_pos, p + 1);
      if (s.all_logits || i == s.n_tokens - 1) rows_.push_back(t);
    }
  }
  const int64_t R = static_cast<int64_t>(rows_.size());
  const bool rows_are_tokens = R == T;  // then rows_[r] == r
  const size_t f = sizeof(float);
  // The graph bakes in buffer addresses: size the block-id table for the pool, not the batch.
  ids_.resize(std::max<size_t>(ids_.size(), pool.n_blocks()));
  RETURN_IF_ERROR(UploadTo(&x_, a_.x));
  RETURN_IF_ERROR(UploadTo(&pos_, a_.pos));
  RETURN_IF_ERROR(UploadTo(&d_block_, tok_block_));
  RETURN_IF_ERROR(UploadTo(&d_slot_, tok_slot_));
  RETURN_IF_ERROR(UploadTo(&d_n_pos_, n_pos_));
  RETURN_IF_ERROR(UploadTo(&d_table_, table_));
  RETURN_IF_ERROR(UploadTo(&d_ids_, ids_));
  RETURN_IF_ERROR(Ensure(&xn_, T * c.n_embd * f));
  RETURN_IF_ERROR(Ensure(&q_, T * q_dim * f));
  RETURN_IF_ERROR(Ensure(&k_, T * kv_dim * f));
  RETURN_IF_ERROR(Ensure(&v_, T * kv_dim * f));
  RETURN_IF_ERROR(Ensure(&attn_, T * q_dim * f));
  RETURN_IF_ERROR(Ensure(&gate_, T * c.n_ff * f));
  RETURN_IF_ERROR(Ensure(&up_, T * c.n_ff * f));
  RETURN_IF_ERROR(Ensure(&mm_scratch_, std::max(T, R) * matmul_scratch_per_token_));
  block_tokens_ = bt;
  const kc::PagedKvDevice g{kv_.as<uint8_t>(), pool.n_blocks(), bt, KL.n_kv_heads, KL.head_dim};
  RETURN_IF_ERROR(Ensure(&attn_scratch_,
                         kc::AttendPagedScratchFloats(g, T, c.n_head, max_pos) * f));
  RETURN_IF_ERROR(Ensure(&stage_, static_cast<size_t>(c.n_layers) * T * 2 * kv_dim * 2));
  RETURN_IF_ERROR(Ensure(&rows_x_, R * c.n_embd * f));
  RETURN_IF_ERROR(Ensure(&logits_, R * c.n_vocab * f));

  RETURN_IF_ERROR(Run(T, R, rows_are_tokens, max_pos, pool.n_blocks()));
  out->n_vocab = c.n_vocab;
  out->data.resize(R * c.n_vocab);
  RETURN_IF_ERROR(kc::FromCuda(cudaMemcpyAsync(out->data.data(), logits_.get(),
                                               out->data.size() * f, cudaMemcpyDeviceToHost,
                                               stream_),
                               "logits download"));
  RETURN_IF_ERROR(CopyBackKv(pool, T));  // synchronizes the stream
  CommitBatch(batch);
  return Status::Ok();
}

Status LlamaCudaModel::Run(int64_t T, int64_t R, bool rows_are_tokens, int max_pos,
                           int n_blocks) {
  // Decode-shaped steps (one row per token, few tokens) repeat the same launches with the same
  // buffers; prefill chunks differ in shape each time and run directly.
  constexpr int64_t kMaxGraphTokens = 64;
  if (!graphs_ || !rows_are_tokens || T > kMaxGraphTokens) {
    return Enqueue(T, R, rows_are_tokens, max_pos, n_blocks);
  }
  const GraphKey key{T, kc::AttendPagedSplits(max_pos), n_blocks, buffers_version_};
  if (graph_ == nullptr || !(key == graph_key_)) {
    if (graph_ != nullptr) cudaGraphExecDestroy(graph_);
    graph_ = nullptr;
    RETURN_IF_ERROR(kc::FromCuda(
        cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "graph capture"));
    const Status enq = Enqueue(T, R, rows_are_tokens, max_pos, n_blocks);
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(stream_, &graph);
    cudaError_t inst = cudaErrorUnknown;
    if (enq.ok() && end == cudaSuccess) inst = cudaGraphInstantiate(&graph_, graph, 0);
    if (graph != nullptr) cudaGraphDestroy(graph);
    if (!enq.ok() || end != cudaSuccess || inst != cudaSuccess) {
      // A step that cannot be captured runs directly, and so do the later ones: graphs are a
      // speed-up, not a requirement.
      graph_ = nullptr;
      cudaGetLastError();
      graphs_ = false;
      LOG_WARN("CUDA graph capture failed (%s); decode steps run without graphs",
               !enq.ok() ? enq.message().c_str()
                         : cudaGetErrorString(end != cudaSuccess ? end : inst));
      return Enqueue(T, R, rows_are_tokens, max_pos, n_blocks);
    }
    graph_key_ = key;
  }
  return kc::FromCuda(cudaGraphLaunch(graph_, stream_), "graph launch");
}

Status LlamaCudaModel::Enqueue(int64_t T, int64_t R, bool rows_are_tokens, int max_pos,
                               int n_blocks) {
  const ModelConfig& c = config_;
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim, kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  const size_t f = sizeof(float);
  cudaStream_t st = stream_;
  float *x = x_.as<float>(), *xn = xn_.as<float>(), *q = q_.as<float>(), *k = k_.as<float>(),
        *v = v_.as<float>(), *attn = attn_.as<float>(), *gate = gate_.as<float>(),
        *up = up_.as<float>();
  void* mm = mm_scratch_.get();
  const int32_t* pos = pos_.as<int32_t>();
  const kc::PagedKvDevice g{kv_.as<uint8_t>(), n_blocks, block_tokens_, c.n_head_kv, c.head_dim};
  kc::RopeArgs rq;
  rq.n_heads = c.n_head;
  rq.head_dim = c.head_dim;
  rq.n_rot = c.n_rot;
  rq.freq_base = c.rope_freq_base;
  rq.freq_scale = c.rope_freq_scale;
  rq.neox = src_->rope_mode_ == RopeMode::kNeox;
  rq.freq_factors = src_->rope_freqs_.empty() ? nullptr : src_->rope_freqs_.data();
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  // Each residual add is fused with the norm after it (the next layer's, or the output norm
  // below): the layer starts with xn = RmsNorm(x) already computed.
  RETURN_IF_ERROR(
      kc::RmsNorm(x, layers_[0].attn_norm.as<float>(), T, c.n_embd, c.norm_eps, xn, st));
  for (int il = 0; il < c.n_layers; ++il) {
    const Layer& L = layers_[il];
    RETURN_IF_ERROR(kc::MatMulShared({{&L.wq.view, q}, {&L.wk.view, k}, {&L.wv.view, v}}, xn, T,
                                     mm, st));
    if (L.bq.get() != nullptr) {
      RETURN_IF_ERROR(kc::AddBias(q, L.bq.as<float>(), T, q_dim, st));
      RETURN_IF_ERROR(kc::AddBias(k, L.bk.as<float>(), T, kv_dim, st));
      RETURN_IF_ERROR(kc::AddBias(v, L.bv.as<float>(), T, kv_dim, st));
    }
    if (L.q_norm.get() != nullptr) {
      RETURN_IF_ERROR(
          kc::RmsNorm(q, L.q_norm.as<float>(), T * c.n_head, c.head_dim, c.norm_eps, q, st));
      RETURN_IF_ERROR(
          kc::RmsNorm(k, L.k_norm.as<float>(), T * c.n_head_kv, c.head_dim, c.norm_eps, k, st));
    }
    RETURN_IF_ERROR(kc::RopeQK(q, k, c.n_head_kv, T, pos, rq, st));
    uint16_t* stage = stage_.as<uint16_t>() + static_cast<size_t>(il) * T * 2 * kv_dim;
    RETURN_IF_ERROR(kc::StoreKvF16(g, il, k, v, T, d_block_.as<int32_t>(), d_slot_.as<int32_t>(),
                                   stage, st));
    RETURN_IF_ERROR(kc::AttendPagedF16(g, il, c.n_head, q, T, d_n_pos_.as<int32_t>(),
                                       d_table_.as<int32_t>(), d_ids_.as<int32_t>(), max_pos,
                                       kq_scale, attn_scratch_.as<float>(), attn, st));
    RETURN_IF_ERROR(kc::MatMul(L.wo.view, attn, T, xn, mm, st));
    RETURN_IF_ERROR(
        kc::AddRmsNorm(x, xn, L.ffn_norm.as<float>(), T, c.n_embd, c.norm_eps, xn, st));
    RETURN_IF_ERROR(kc::MatMulShared({{&L.gate.view, gate}, {&L.up.view, up}}, xn, T, mm, st));
    RETURN_IF_ERROR(kc::SwiGlu(gate, up, T * c.n_ff, st));
    RETURN_IF_ERROR(kc::MatMul(L.down.view, gate, T, xn, mm, st));
    if (il + 1 < c.n_layers) {
      RETURN_IF_ERROR(kc::AddRmsNorm(x, xn, layers_[il + 1].attn_norm.as<float>(), T, c.n_embd,
                                     c.norm_eps, xn, st));
    } else {
      RETURN_IF_ERROR(kc::Add(x, xn, T * c.n_embd, st));
    }
  }

  float* rx = rows_x_.as<float>();
  const float* src = x;
  if (!rows_are_tokens) {
    for (int64_t r = 0; r < R; ++r) {
      RETURN_IF_ERROR(kc::FromCuda(cudaMemcpyAsync(rx + r * c.n_embd, x + rows_[r] * c.n_embd,
                                                   c.n_embd * f, cudaMemcpyDeviceToDevice, st),
                                   "logits rows"));
    }
    src = rx;
  }
  RETURN_IF_ERROR(kc::RmsNorm(src, output_norm_.as<float>(), R, c.n_embd, c.norm_eps, rx, st));
  return kc::MatMul(output_.view, rx, R, logits_.as<float>(), mm, st);
}

Expected<std::unique_ptr<Model>> MoveToCuda(std::unique_ptr<Model> cpu_model) {
  auto* llama = dynamic_cast<LlamaModel*>(cpu_model.get());
  if (llama == nullptr) {
    return Unimplemented("architecture '" + cpu_model->config().arch +
                         "' has no CUDA path yet (CUDA runs llama, qwen2 and qwen3; "
                         "docs/cuda.md): use device = cpu");
  }
  return LlamaCudaModel::Create(std::move(cpu_model), llama);
}

}  // namespace semantic::models::cuda

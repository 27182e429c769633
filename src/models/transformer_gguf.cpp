// Shared GGUF hparams and tensor tables of the transformer architectures (transformer_gguf.h).
#include "models/transformer_gguf.h"

#include <string>

#include "models/weights.h"

namespace semantic::models {

std::string BlockTensor(int i, const char* name, const char* kind) {
  return "blk." + std::to_string(i) + "." + name + "." + kind;
}

Status ReadTransformerHparams(const loader::GgufFile& f, ModelConfig* c, bool mla) {
  c->arch = f.GetStringOr("general.architecture", "llama");
  c->name = f.GetStringOr("general.name", "");
  const std::string a = c->arch + ".";
  auto req = [&](const std::string& key) -> Expected<int64_t> {
    auto v = f.GetInt(a + key);
    if (!v.ok()) return InvalidArgument(f.path() + ": " + v.status().message());
    if (*v <= 0 || *v > (1 << 24)) {
      return InvalidArgument(f.path() + ": " + a + key + " = " + std::to_string(*v) +
                             " is out of range");
    }
    return v;
  };
  ASSIGN_OR_RETURN(int64_t n_layers, req("block_count"));
  ASSIGN_OR_RETURN(int64_t n_embd, req("embedding_length"));
  ASSIGN_OR_RETURN(int64_t n_ff, req("feed_forward_length"));
  ASSIGN_OR_RETURN(int64_t n_head, req("attention.head_count"));
  c->n_layers = static_cast<int>(n_layers);
  c->n_embd = static_cast<int>(n_embd);
  c->n_ff = static_cast<int>(n_ff);
  c->n_head = static_cast<int>(n_head);
  c->n_head_kv = static_cast<int>(f.GetIntOr(a + "attention.head_count_kv", c->n_head));
  c->n_ctx_train = static_cast<int>(f.GetIntOr(a + "context_length", 2048));
  c->head_dim = static_cast<int>(f.GetIntOr(a + "attention.key_length", c->n_embd / c->n_head));
  const int v_dim = static_cast<int>(f.GetIntOr(a + "attention.value_length", c->head_dim));
  c->n_rot = static_cast<int>(f.GetIntOr(a + "rope.dimension_count", c->head_dim));
  c->rope_freq_base = static_cast<float>(f.GetFloatOr(a + "rope.freq_base", 10000.0));
  const double scale_factor = f.GetFloatOr(a + "rope.scaling.factor", 0.0);
  c->rope_freq_scale = scale_factor > 0 ? static_cast<float>(1.0 / scale_factor) : 1.0f;
  c->norm_eps = static_cast<float>(f.GetFloatOr(a + "attention.layer_norm_rms_epsilon", 1e-5));
  if (c->n_head_kv <= 0 || c->n_head % c->n_head_kv != 0 || c->head_dim <= 0 ||
      c->head_dim % 2 != 0 || c->n_rot <= 0 || c->n_rot % 2 != 0 ||
      (!mla && (c->n_rot != c->head_dim || v_dim != c->head_dim))) {
    return InvalidArgument(
        f.path() + ": inconsistent attention hparams (heads " + std::to_string(c->n_head) +
        ", kv heads " + std::to_string(c->n_head_kv) + ", head dim " + std::to_string(c->head_dim) +
        ", value dim " + std::to_string(v_dim) + ", rope dims " + std::to_string(c->n_rot) + ")");
  }
  return Status::Ok();
}

Expected<EmbeddingAndHead> LoadEmbeddingAndHead(const loader::GgufFile& f, ModelConfig* c) {
  EmbeddingAndHead h;
  const loader::GgufTensor* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound(f.path() + ": missing tensor 'token_embd.weight'");
  c->n_vocab = static_cast<int>(emb->ne[1]);
  ASSIGN_OR_RETURN(h.tok_embd, GetMatrix(f, "token_embd.weight", c->n_embd, c->n_vocab));
  c->tied_output = !HasTensor(f, "output.weight");
  if (c->tied_output) {
    h.output = h.tok_embd;
  } else {
    ASSIGN_OR_RETURN(h.output, GetMatrix(f, "output.weight", c->n_embd, c->n_vocab));
  }
  ASSIGN_OR_RETURN(h.output_norm, GetVector(f, "output_norm.weight", c->n_embd));
  return h;
}

Expected<DenseLayerWeights> LoadDenseLayer(const loader::GgufFile& f, const ModelConfig& c, int i,
                                           bool dense_ffn) {
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  DenseLayerWeights L;
  ASSIGN_OR_RETURN(L.attn_norm, GetVector(f, BlockTensor(i, "attn_norm"), c.n_embd));
  ASSIGN_OR_RETURN(L.wq, GetMatrix(f, BlockTensor(i, "attn_q"), c.n_embd, q_dim));
  ASSIGN_OR_RETURN(L.wk, GetMatrix(f, BlockTensor(i, "attn_k"), c.n_embd, kv_dim));
  ASSIGN_OR_RETURN(L.wv, GetMatrix(f, BlockTensor(i, "attn_v"), c.n_embd, kv_dim));
  ASSIGN_OR_RETURN(L.wo, GetMatrix(f, BlockTensor(i, "attn_output"), q_dim, c.n_embd));
  ASSIGN_OR_RETURN(L.ffn_norm, GetVector(f, BlockTensor(i, "ffn_norm"), c.n_embd));
  if (!dense_ffn) return L;
  ASSIGN_OR_RETURN(L.w_gate, GetMatrix(f, BlockTensor(i, "ffn_gate"), c.n_embd, c.n_ff));
  ASSIGN_OR_RETURN(L.w_up, GetMatrix(f, BlockTensor(i, "ffn_up"), c.n_embd, c.n_ff));
  ASSIGN_OR_RETURN(L.w_down, GetMatrix(f, BlockTensor(i, "ffn_down"), c.n_ff, c.n_embd));
  return L;
}

void PackHead(const loader::GgufFile& f, EmbeddingAndHead* h, kernels::PackedWeights* store) {
  PackMatrix(f, &h->output, store);
}

void PackDenseLayer(const loader::GgufFile& f, DenseLayerWeights* L,
                    kernels::PackedWeights* store) {
  for (kernels::WeightView* w : {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down})
    PackMatrix(f, w, store);
}

}  // namespace semantic::models

// Generator: model/tokenizer loading and the prefill + decode loop for one sequence.
#include "engine/generator.h"

#include <algorithm>

#include "base/timer.h"
#include "engine/vocab_from_gguf.h"
#include "loader/safetensors/hf_checkpoint.h"
#ifdef SEMANTIC_HAVE_CUDA
#include "models/cuda/llama_cuda.h"
#endif

namespace semantic::engine {

Expected<std::unique_ptr<Generator>> Generator::Open(const GeneratorOptions& options) {
  std::unique_ptr<Generator> g(new Generator());
  g->options_ = options;
  ASSIGN_OR_RETURN(g->gguf_, loader::OpenModelFile(options.model_path));
  const int threads = options.threads > 0 ? options.threads : ThreadPool::DefaultThreads();
  g->pool_ = std::make_unique<ThreadPool>(threads);
  ASSIGN_OR_RETURN(g->model_, models::LoadModel(*g->gguf_, *g->pool_));
  if (!options.cuda) g->model_->PackWeights(*g->gguf_);
  if (options.cuda) {
#ifdef SEMANTIC_HAVE_CUDA
    auto moved = models::cuda::MoveToCuda(std::move(g->model_));
    if (!moved.ok()) {
      // No usable GPU ("no CUDA device: ...") is not a missing model: the model cannot load
      // here, as an unsupported one cannot (a swap to it answers 422 and rolls back).
      const Status& st = moved.status();
      const StatusCode code =
          st.code() == StatusCode::kNotFound ? StatusCode::kUnimplemented : st.code();
      return Status(code, "model.device = cuda: " + st.message());
    }
    g->model_ = std::move(*moved);
#else
    return Unimplemented("model.device = cuda: this build has no CUDA support (configured "
                         "without a CUDA compiler or with -DSEMANTIC_CUDA=OFF; docs/cuda.md)");
#endif
  }
  ASSIGN_OR_RETURN(tokenizer::VocabData vocab, VocabFromGguf(*g->gguf_));
  ASSIGN_OR_RETURN(g->tokenizer_, tokenizer::Tokenizer::Create(std::move(vocab)));
  if (g->tokenizer_->n_vocab() != g->model_->config().n_vocab) {
    return InvalidArgument(options.model_path + ": tokenizer has " +
                           std::to_string(g->tokenizer_->n_vocab()) + " tokens but the model " +
                           std::to_string(g->model_->config().n_vocab));
  }
  if (options.context <= 0 || options.block_tokens <= 0) {
    return InvalidArgument("context and block size must be positive");
  }
  const kv::KvLayout layout = g->model_->KvLayoutFor(options.block_tokens, options.kv_dtype);
  if (Status st = kv::ValidateKvLayout(layout); !st.ok()) {
    return InvalidArgument(options.model_path + ": " + st.message());
  }
  if (Status st = g->model_->CheckKvLayout(layout); !st.ok()) {
    return Status(st.code(), options.model_path + ": " + st.message());
  }
  const int n_blocks = (options.context + options.block_tokens - 1) / options.block_tokens;
  g->kv_pool_ = std::make_unique<kv::KvPool>(layout, n_blocks);
  return g;
}

void Generator::ResizeKvPool(int n_blocks, int n_sliding_slots) {
  kv_pool_ = std::make_unique<kv::KvPool>(
      model_->KvLayoutFor(options_.block_tokens, options_.kv_dtype), n_blocks, n_sliding_slots);
}

Expected<GenerationStats> Generator::Generate(const std::vector<int32_t>& prompt, int max_tokens,
                                              const SamplingParams& sampling,
                                              const std::function<bool(int32_t)>& on_token) {
  GenerationStats stats;
  stats.prompt_tokens = static_cast<int>(prompt.size());
  if (prompt.empty()) return InvalidArgument("empty prompt");
  const int capacity = kv_pool_->n_blocks() * kv_pool_->layout().block_tokens;
  if (static_cast<int>(prompt.size()) >= capacity) {
    return InvalidArgument("prompt has " + std::to_string(prompt.size()) +
                           " tokens; the context holds " + std::to_string(capacity));
  }
  kv::SequenceKv seq;
  struct Release {
    kv::SequenceKv& s;
    kv::KvPool& p;
    ~Release() { s.Clear(p); }
  } release{seq, *kv_pool_};

  Sampler sampler(sampling);
  std::vector<int32_t> history = prompt;
  models::Logits logits;
  Timer timer;
  for (size_t i = 0; i < prompt.size(); i += options_.prefill_chunk) {
    const int n = static_cast<int>(std::min<size_t>(options_.prefill_chunk, prompt.size() - i));
    RETURN_IF_ERROR(seq.Reserve(*kv_pool_, n));
    models::BatchSeq bs{prompt.data() + i, n, &seq, false};
    RETURN_IF_ERROR(model_->Forward({bs}, *kv_pool_, &logits));
    seq.DropSlidingBehind(*kv_pool_);
  }
  stats.prefill_seconds = timer.Seconds();
  timer.Reset();
  stats.finish_reason = "length";
  for (int step = 0; step < max_tokens; ++step) {
    const int32_t next = sampler.Sample(logits.Row(0), logits.n_vocab, history);
    history.push_back(next);
    ++stats.generated_tokens;
    if (tokenizer_->IsEog(next)) {
      stats.finish_reason = "stop";
      break;
    }
    if (!on_token(next)) {
      stats.finish_reason = "stop";
      break;
    }
    if (step + 1 == max_tokens) break;
    if (seq.n_tokens + 1 >= capacity) break;  // context full
    RETURN_IF_ERROR(seq.Reserve(*kv_pool_, 1));
    models::BatchSeq bs{&history.back(), 1, &seq, false};
    RETURN_IF_ERROR(model_->Forward({bs}, *kv_pool_, &logits));
    seq.DropSlidingBehind(*kv_pool_);
    ++stats.decode_steps;
  }
  stats.decode_seconds = timer.Seconds();
  return stats;
}

}  // namespace semantic::engine

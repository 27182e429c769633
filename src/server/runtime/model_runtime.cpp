// ModelRuntime::Load: the model, its KV pool sized by the cache budget, the prefix cache with its
// disk tier, a warm-up forward and the executor — what `semantic serve` does for every model.
#include "server/runtime/model_runtime.h"

#include <algorithm>
#include <filesystem>

#include "base/log.h"
#include "base/timer.h"
#include "engine/model_fingerprint.h"
#include "kernels/kv_dtype.h"
#include "server/api/common/model_names.h"

namespace semantic::server {
namespace {

kernels::KvDtype KvDtypeOf(config::KvDtype d) {
  switch (d) {
    case config::KvDtype::kQ8_0:
      return kernels::KvDtype::kQ8_0;
    case config::KvDtype::kQ4_0:
      return kernels::KvDtype::kQ4_0;
    case config::KvDtype::kF16:
      break;
  }
  return kernels::KvDtype::kF16;
}

// One small forward before serving: faults in every weight page and wakes the thread pool, so
// the first request (often an agent returning after a restart) does not pay for it. Its status:
// on a GPU it is the first use of the device's memory for the KV pool (models/cuda), and a
// failure there fails the load instead of every request.
Status WarmUp(engine::Generator& g) {
  Timer timer;
  kv::SequenceKv seq;
  if (!seq.Reserve(g.kv_pool(), 8).ok()) return Status::Ok();
  std::vector<int32_t> tokens(8, std::max(0, g.tokenizer().bos_id()));
  models::Logits logits;
  Status st = g.mutable_model().Forward({{tokens.data(), 8, &seq, false}}, g.kv_pool(), &logits);
  seq.Clear(g.kv_pool());
  LOG_INFO("warm-up forward: %.0f ms%s", timer.Seconds() * 1e3,
           st.ok() ? "" : (" (failed: " + st.message() + ")").c_str());
  return st;
}

// Sliding-window layouts (Gemma 3): blocks carry the global layers, slots the sliding layers'
// parts (kv_pool.h). The budget buys both: slots for the live windows of every running sequence
// (max_batch x (window + one prefill chunk + 1 block)), and at least a quarter as many slots as
// blocks, so the last window of cached agents (about 2K tokens and longer) stays restorable.
void SizeSlidingKvPool(engine::Generator& g, const config::ModelSettings& mc,
                       const kv::KvLayout& layout) {
  const int bt = mc.block_tokens;
  const double gb = static_cast<double>(layout.global_block_bytes());
  const double sb = static_cast<double>(layout.sliding_block_bytes());
  const long long per_seq =
      (layout.window + bt - 1) / bt + (std::max(1, mc.prefill_chunk) + bt - 1) / bt + 1;
  const long long live_slots = std::max(1, mc.max_batch) * per_seq;
  const double budget = static_cast<double>(mc.cache_budget);
  long long blocks = static_cast<long long>(budget / (gb + sb / 4));
  long long slots = blocks / 4;
  if (slots < live_slots) {
    slots = live_slots;
    blocks = static_cast<long long>(std::max(0.0, budget - slots * sb) / gb);
  }
  const long long ctx_blocks = (mc.context_length + bt - 1) / bt;
  blocks = std::max(blocks, ctx_blocks);
  slots = std::min(slots, blocks);
  g.ResizeKvPool(static_cast<int>(blocks), static_cast<int>(slots));
  LOG_INFO(
      "KV pool: %lld tokens (%.0f MiB) + sliding-window parts for %lld of them (%.0f MiB, window "
      "%d), %s",
      blocks * bt, blocks * gb / 1048576.0, slots * bt, slots * sb / 1048576.0, layout.window,
      kernels::KvDtypeName(layout.dtype));
  if (blocks * gb + slots * sb > budget * 1.01) {
    LOG_WARN(
        "model.cache_budget (%.0f MiB) is less than one context of %d plus the sliding-window "
        "parts of %d running sequences: the pool takes %.0f MiB instead",
        budget / 1048576.0, mc.context_length, mc.max_batch,
        (blocks * gb + slots * sb) / 1048576.0);
  }
}

// KV pool: room for one full context at least, up to a RAM budget shared by all sequences.
void SizeKvPool(engine::Generator& g, const config::ModelSettings& mc) {
  const kv::KvLayout layout = g.kv_pool().layout();  // a copy: the pool is replaced below
  if (layout.has_sliding()) return SizeSlidingKvPool(g, mc, layout);
  const double bytes_per_token = static_cast<double>(layout.token_bytes());  // K (+ V)
  const long long budget_tokens =
      static_cast<long long>(static_cast<double>(mc.cache_budget) / bytes_per_token);
  const long long tokens = std::max<long long>(mc.context_length, budget_tokens);
  g.ResizeKvPool(static_cast<int>((tokens + mc.block_tokens - 1) / mc.block_tokens));
  LOG_INFO("KV pool: %lld tokens (%.0f MiB, %s)", tokens, tokens * bytes_per_token / 1048576.0,
           kernels::KvDtypeName(layout.dtype));
  if (budget_tokens < mc.context_length) {
    LOG_WARN(
        "model.cache_budget (%.0f MiB) holds %lld tokens, less than one context of %d: "
        "the pool is sized for one context instead (lower --context or raise "
        "--cache-budget to keep RAM within the budget)",
        mc.cache_budget / 1048576.0, budget_tokens, mc.context_length);
  }
}

}  // namespace

Expected<std::unique_ptr<ModelRuntime>> ModelRuntime::Load(const config::Settings& cfg,
                                                           const RuntimeShared& shared) {
  Timer timer;
  const config::ModelSettings& mc = cfg.model;
  std::unique_ptr<ModelRuntime> rt(new ModelRuntime());
  engine::GeneratorOptions opts;
  opts.model_path = mc.path;
  opts.threads = mc.threads;
  opts.context = mc.context_length;  // resized below once the model's KV size per token is known
  opts.block_tokens = mc.block_tokens;
  opts.kv_dtype = KvDtypeOf(mc.kv_dtype);
  // model.device = cuda: a build without CUDA, no usable GPU, or an architecture / weight type /
  // KV type the CUDA path lacks fails the load with the reason (a swap rolls back).
  opts.cuda = mc.device == config::Device::kCuda;
  LOG_INFO("loading %s", mc.path.c_str());
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) return gen.status();
  rt->gen_ = std::move(*gen);
  engine::Generator& g = *rt->gen_;
  if (mc.context_length > g.model().config().n_ctx_train) {
    LOG_WARN(
        "model.context_length %d is beyond the %d positions the model was trained on: "
        "requests that long are served, but the model's output quality degrades there",
        mc.context_length, g.model().config().n_ctx_train);
  }
  SizeKvPool(g, mc);
  const auto& tok = g.tokenizer();
  auto chat = ChatRenderer::ForModel(g.gguf(), tok);
  if (!chat.ok()) return chat.status();
  rt->chat_ = std::move(*chat);
  LOG_INFO("tool calls: %s format (docs/tool-calling.md)",
           chat::ToolFamilyName(rt->chat_->tool_family()));
  // Prefix cache over the pool, with the disk tier and agent sessions behind it. The disk tier
  // keeps each model's files under its own fingerprint, so models never see each other's blocks.
  kv::BlockFileIdentity identity;
  rt->fingerprint_ = engine::ModelFingerprint(g.gguf());
  identity.model_fingerprint = rt->fingerprint_;
  identity.layout = g.kv_pool().layout();
  identity.kv_dtype = static_cast<uint32_t>(identity.layout.dtype);
  kv::PrefixCacheOptions co;
  co.cache_dir = cfg.agent.evict_to_disk ? cfg.agent.cache_dir : "";
  co.disk_budget = static_cast<uint64_t>(cfg.agent.disk_budget);
  co.default_ttl_ms = cfg.agent.session_ttl.count();
  co.max_agents_in_memory = cfg.agent.max_agents_in_memory;
  if (cfg.agent.eviction_policy == config::EvictionPolicy::kNone) {
    g.kv_pool().set_evict_cached(false);
    LOG_INFO(
        "agent.eviction_policy = none: cached KV blocks stay in RAM; once RAM is full of "
        "them, requests that need new blocks fail with 503");
  }
  rt->cache_ = std::make_unique<kv::PrefixCache>(g.kv_pool(), identity, co);
  if (Status cst = rt->cache_->Open(); !cst.ok()) {
    LOG_WARN("KV disk tier disabled, caching in RAM only: %s", cst.message().c_str());
  } else if (rt->cache_->disk_enabled()) {
    LOG_INFO("KV disk tier: %s (budget %.1f GiB)", co.cache_dir.c_str(),
             co.disk_budget / 1073741824.0);
  }
  if (Status st = WarmUp(g); !st.ok() && g.model().Device() != "cpu") {
    return Status(st.code(), mc.path + " on " + g.model().Device() + ": " + st.message());
  }
  engine::ExecutorOptions eo;
  eo.cache = rt->cache_.get();
  eo.pool = &g.pool();
  eo.max_running = mc.max_batch;
  eo.max_running_per_agent = cfg.scheduler.max_running_per_agent;
  eo.max_queue = cfg.scheduler.max_queue;
  eo.batch_window_ms = static_cast<int>(cfg.scheduler.batch_window.count());
  eo.step_token_budget = mc.prefill_chunk;
  eo.max_context = mc.context_length;

  ModelHandle& h = rt->handle_;
  h.path = mc.path;
  h.id = mc.served_name.empty() ? std::filesystem::path(mc.path).stem().string() : mc.served_name;
  h.config = &g.model().config();
  h.tokenizer = &tok;
  h.chat = rt->chat_.get();
  h.cache = rt->cache_.get();
  h.block_tokens = mc.block_tokens;
  h.kv_dtype = config::Name(mc.kv_dtype);
  h.default_max_tokens = mc.default_max_tokens;
  h.reasoning_extra_tokens = mc.reasoning_extra_tokens;
  h.default_temperature = static_cast<float>(mc.default_temperature);
  h.max_messages = cfg.server.max_messages;
  h.max_output_tokens = cfg.server.max_output_tokens;
  h.aliases = cfg.aliases;
  h.rate_limiter = shared.rate_limiter;
  h.live = shared.live;
  if (const std::string bad = CheckAliases(h); !bad.empty() && !shared.aliases_name_registry) {
    return InvalidArgument(bad);
  }
  rt->exec_ = std::make_unique<engine::Executor>(g.mutable_model(), g.kv_pool(), tok, eo);
  rt->exec_->Start();
  h.executor = rt->exec_.get();
  rt->load_seconds_ = timer.Seconds();
  const size_t packed = g.model().PackedWeightBytes();
  const std::string packed_note =
      packed ? ", " + std::to_string(packed >> 20) + " MiB of weights packed" : "";
  LOG_INFO("model %s ready (%s, %d layers, context %d, %d threads, %s%s, loaded in %.1f s)",
           h.id.c_str(), h.config->arch.c_str(), h.config->n_layers, rt->exec_->MaxContext(),
           g.pool().size(), g.model().Device().c_str(), packed_note.c_str(), rt->load_seconds_);
  return rt;
}

ModelRuntime::~ModelRuntime() {
  StopExecutor();
  if (cache_) {
    LOG_INFO("model %s: writing pending KV blocks and sessions", handle_.id.c_str());
    cache_->Flush();
  }
}

bool ModelRuntime::Busy() const { return InFlight() > 0; }

int ModelRuntime::InFlight() const {
  if (!exec_) return 0;
  return exec_->Stats().running + exec_->Queued();
}

void ModelRuntime::SetMaxQueue(int n) {
  if (exec_) exec_->SetMaxQueue(n);
}

void ModelRuntime::StopExecutor() {
  if (exec_) exec_->Stop();
}

}  // namespace semantic::server

// Executor loop: admission, batch assembly, sampling, event delivery.
#include "engine/executor.h"

#include <algorithm>
#include <cmath>

#include "base/log.h"
#include "base/timer.h"

namespace semantic::engine {

Executor::Executor(models::Model& model, kv::KvPool& pool, const tokenizer::Tokenizer& tok,
                   const ExecutorOptions& options)
    : model_(model), pool_(pool), tok_(tok), options_(options) {}

Executor::~Executor() { Stop(); }

void Executor::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  restore_thread_ = std::thread([this] { RestoreLoop(); });
}

void Executor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (restore_thread_.joinable()) restore_thread_.join();
}

void Executor::RestoreLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !restore_queue_.empty(); });
    if (restore_queue_.empty()) return;  // stopping, nothing left
    Sequence* s = restore_queue_.front();
    restore_queue_.pop_front();
    lock.unlock();
    Timer timer;
    const int reusable = static_cast<int>(s->req.prompt.size()) - 1;
    kv::PrefixMatch m = options_.cache->Acquire(s->req.prompt, reusable, &s->kv, &s->keys,
                                                /*ram_only=*/false, s->root);
    s->published = s->keys.size();
    s->prefilled = s->cached = s->kv.n_tokens;
    LOG_DEBUG("request %llu: restored %d blocks (%d from disk) in %.1f ms; %d prompt tokens cached",
              static_cast<unsigned long long>(s->req.id), m.ram_blocks + m.disk_blocks,
              m.disk_blocks, timer.Seconds() * 1e3, s->cached);
    lock.lock();
    s->restoring.store(false);
    cv_.notify_all();
  }
}

int Executor::MaxContext() const {
  int ctx = std::min(pool_.n_blocks() * pool_.layout().block_tokens, model_.config().n_ctx_train);
  if (options_.max_context > 0) ctx = std::min(ctx, options_.max_context);
  return ctx;
}

ExecutorStats Executor::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

std::shared_ptr<ResultChannel> Executor::Submit(Request request) {
  auto seq = std::make_unique<Sequence>();
  seq->channel = std::make_shared<ResultChannel>();
  seq->sampler = std::make_unique<Sampler>(request.sampling);
  seq->history = request.prompt;
  seq->req = std::move(request);
  auto channel = seq->channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming_.push_back(std::move(seq));
  }
  cv_.notify_all();  // the restore thread waits on the same condition variable
  return channel;
}

void Executor::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const bool woke = cv_.wait_for(lock, std::chrono::seconds(5), [&] {
        return stop_ || !incoming_.empty() || Runnable();
      });
      if (stop_) break;
      if (!woke) {
        lock.unlock();
        if (options_.cache) options_.cache->ExpireSessions();  // idle: sessions past their TTL
        continue;
      }
      while (!incoming_.empty()) {
        active_.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    Step();
  }
  // Shutting down: everything still here is cancelled (after in-flight restores end).
  std::unique_lock<std::mutex> lock(mu_);
  restore_queue_.clear();
  cv_.wait(lock, [&] {
    for (auto& s : active_) {
      if (s->restoring.load()) return false;
    }
    return true;
  });
  for (auto& s : incoming_) active_.push_back(std::move(s));
  incoming_.clear();
  for (auto& s : active_) Finish(*s, "cancelled");
  active_.clear();
}

void Executor::Admit(Sequence& s) {
  s.admitted = true;
  if (!options_.cache) return;
  options_.cache->BeginRequest(s.req.agent_id);
  // At least the last prompt token is computed: its logits start the generation.
  // RAM hits here; blocks on disk are read by the restore thread while other sequences run.
  const int reusable = static_cast<int>(s.req.prompt.size()) - 1;
  s.root = options_.cache->RootFor(s.req.cache_salt);
  options_.cache->Acquire(s.req.prompt, reusable, &s.kv, &s.keys, /*ram_only=*/true, s.root);
  s.published = s.keys.size();
  s.prefilled = s.cached = s.kv.n_tokens;
  if (options_.cache->NextOnDisk(s.req.prompt, reusable, s.keys, s.root)) {
    s.restoring.store(true);
    std::lock_guard<std::mutex> lock(mu_);
    restore_queue_.push_back(&s);
    cv_.notify_all();
  } else if (s.cached > 0) {
    LOG_DEBUG("request %llu: %d cached prompt tokens from RAM",
              static_cast<unsigned long long>(s.req.id), s.cached);
  }
}

bool Executor::Runnable() const {
  for (const auto& s : active_) {
    if (!s->restoring.load()) return true;
  }
  return false;
}

void Executor::Release(Sequence& s) {
  if (options_.cache && s.admitted) {
    options_.cache->EndRequest(s.req.agent_id, s.keys, s.kv.n_tokens,
                               static_cast<int>(s.req.prompt.size()), s.cached);
    s.admitted = false;
  }
  s.kv.Clear(pool_);
}

void Executor::Finish(Sequence& s, const std::string& reason) {
  Event e;
  e.kind = Event::Kind::kDone;
  e.finish_reason = reason;
  e.prompt_tokens = static_cast<int>(s.req.prompt.size());
  e.cached_tokens = s.cached;
  e.completion_tokens = s.generated;
  Release(s);  // the session is recorded before the client can see the end
  s.channel->Push(std::move(e));
  std::lock_guard<std::mutex> lock(stats_mu_);
  ++stats_.requests_done;
}

void Executor::Fail(Sequence& s, const std::string& error, int http_status) {
  Event e;
  e.kind = Event::Kind::kError;
  e.error = error;
  e.http_status = http_status;
  Release(s);
  s.channel->Push(std::move(e));
}

bool Executor::Step() {
  // Drop cancelled sequences first (client went away): their blocks go back to the pool. A
  // sequence being restored is left alone until its restore ends.
  for (auto it = active_.begin(); it != active_.end();) {
    if ((*it)->req.cancelled->load() && !(*it)->restoring.load()) {
      Finish(**it, "cancelled");
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  if (active_.empty()) return false;

  // Assemble the batch: decode tokens of running sequences, then prefill chunks, in admission
  // order, within the token budget and the running-sequence cap. KV is reserved up front; a
  // sequence that cannot get blocks waits for a later step.
  std::vector<models::BatchSeq> batch;
  std::vector<Sequence*> members;
  int budget = options_.step_token_budget;
  int running = 0;
  for (auto& sp : active_) {
    Sequence& s = *sp;
    if (!s.admitted) {
      if (running >= options_.max_running) break;
      Admit(s);
    }
    if (s.restoring.load()) {
      ++running;  // holds its place; joins the batch once its blocks are in RAM
      continue;
    }
    const bool decoding = s.prefilled == static_cast<int>(s.req.prompt.size());
    if (running >= options_.max_running) break;
    if (decoding) {
      if (budget < 1 || !s.kv.Reserve(pool_, 1).ok()) continue;
      batch.push_back({&s.pending, 1, &s.kv, false});
      --budget;
    } else {
      const int n = std::min<int>(budget, static_cast<int>(s.req.prompt.size()) - s.prefilled);
      if (n <= 0) continue;
      if (!s.kv.Reserve(pool_, n).ok()) continue;  // pool full: wait for blocks
      batch.push_back({s.req.prompt.data() + s.prefilled, n, &s.kv, false});
      budget -= n;
    }
    members.push_back(&s);
    ++running;
  }
  if (batch.empty() && !Runnable()) return false;  // only restores in flight: wait for them
  if (batch.empty()) {
    // Nothing fits: the oldest runnable sequence cannot get KV although nothing else runs.
    auto it = std::find_if(active_.begin(), active_.end(),
                           [](const auto& p) { return !p->restoring.load(); });
    Fail(**it, "not enough KV cache for this request", 503);
    active_.erase(it);
    return true;
  }

  Status st = model_.Forward(batch, pool_, &logits_);
  if (!st.ok()) {
    LOG_ERROR("forward failed: %s", st.message().c_str());
    for (Sequence* s : members) {
      Fail(*s, "internal error: " + st.message(), 500);
      s->req.cancelled->store(true);  // removed at the next step (Finish is not sent twice)
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if ((*it)->req.cancelled->load()) it = active_.erase(it); else ++it;
    }
    return true;
  }

  uint64_t generated = 0, prompt_done = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    Sequence& s = *members[i];
    if (options_.cache) {
      options_.cache->Publish(s.history, &s.kv, &s.keys, &s.published, s.root);
    }
    if (s.prefilled < static_cast<int>(s.req.prompt.size())) {
      s.prefilled += batch[i].n_tokens;
      prompt_done += batch[i].n_tokens;
      if (s.prefilled < static_cast<int>(s.req.prompt.size())) continue;  // more prompt to go
    }
    const float* row = logits_.Row(logits_.seq_row[i]);
    const int32_t next = s.sampler->Sample(row, logits_.n_vocab, s.history);
    Event e;
    e.token = next;
    if (s.req.logprobs) {
      float max_l = *std::max_element(row, row + logits_.n_vocab);
      double sum = 0;
      for (int v = 0; v < logits_.n_vocab; ++v) sum += std::exp(row[v] - max_l);
      const float log_z = max_l + static_cast<float>(std::log(sum));
      e.logprob = row[next] - log_z;
      if (s.req.top_logprobs > 0) {
        std::vector<int32_t> ids(logits_.n_vocab);
        for (int v = 0; v < logits_.n_vocab; ++v) ids[v] = v;
        const int k = std::min(s.req.top_logprobs, logits_.n_vocab);
        std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                          [&](int a, int b) { return row[a] > row[b]; });
        for (int j = 0; j < k; ++j) e.top.push_back({ids[j], row[ids[j]] - log_z});
      }
    }
    ++s.generated;
    ++generated;
    s.history.push_back(next);
    s.pending = next;
    if (tok_.IsEog(next)) {
      Finish(s, "stop");
      s.req.cancelled->store(true);
      continue;
    }
    s.channel->Push(std::move(e));
    if (s.generated >= s.req.max_tokens || s.kv.n_tokens + 1 >= MaxContext()) {
      Finish(s, "length");
      s.req.cancelled->store(true);
    }
  }
  // Finished sequences were marked; remove them without a second Finish.
  for (auto it = active_.begin(); it != active_.end();) {
    Sequence& s = **it;
    if (s.req.cancelled->load() && s.kv.blocks.empty()) {
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.tokens_generated += generated;
  stats_.prompt_tokens += prompt_done;
  stats_.running = static_cast<int>(active_.size());
  return true;
}

}  // namespace semantic::engine

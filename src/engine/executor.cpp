// Executor loop: admission, batch assembly, sampling, event delivery.
#include "engine/executor.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/log.h"
#include "base/timer.h"

namespace semantic::engine {

Executor::Executor(models::Model& model, kv::KvPool& pool, const tokenizer::Tokenizer& tok,
                   const ExecutorOptions& options)
    : model_(model), pool_(pool), tok_(tok), options_(options), max_queue_(options.max_queue) {
  sched_.max_running = options.max_running;
  sched_.max_batched_tokens = options.step_token_budget;
  sched_.max_running_per_agent = options.max_running_per_agent;
  sched_.block_tokens = pool.layout().block_tokens;
  sched_.prefill_cap_while_decoding = std::min(64, options.step_token_budget);  // until measured
}

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
    const int reusable = s->pending >= 0 ? s->context_len : s->context_len - 1;
    kv::PrefixMatch m = options_.cache->Acquire(s->history, reusable, &s->kv, &s->keys,
                                                /*ram_only=*/false, s->root);
    s->published = s->keys.size();
    if (s->pending < 0) s->cached = s->kv.n_tokens;
    LOG_DEBUG(
        "request %llu: restored %d blocks (%d from disk) in %.1f ms; %d context tokens cached",
        static_cast<unsigned long long>(s->req.id), m.ram_blocks + m.disk_blocks, m.disk_blocks,
        timer.Seconds() * 1e3, s->kv.n_tokens);
    lock.lock();
    s->restoring.store(false);
    cv_.notify_all();
  }
}

int Executor::MaxContext() const {
  // An explicit max_context may exceed the trained context (the operator asked for it; serve warns
  // that quality degrades there); without one the trained context is the limit.
  const int limit = options_.max_context > 0 ? options_.max_context : model_.config().n_ctx_train;
  return std::min(pool_.n_blocks() * pool_.layout().block_tokens, limit);
}

ExecutorStats Executor::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

bool Executor::QueueFull() const {
  const int max_queue = max_queue_.load();
  return max_queue > 0 && queued_.load() >= max_queue;
}

std::shared_ptr<ResultChannel> Executor::Submit(Request request) {
  auto seq = std::make_unique<Sequence>();
  seq->submitted = std::chrono::steady_clock::now();
  seq->channel = std::make_shared<ResultChannel>();
  seq->sampler = std::make_unique<Sampler>(request.sampling);
  seq->history = request.prompt;
  seq->context_len = static_cast<int>(request.prompt.size());
  seq->req = std::move(request);
  auto channel = seq->channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {  // stopped (shutdown or model swap): nothing would ever run it
      Event e;
      e.kind = Event::Kind::kError;
      e.error =
          "request refused: the server stopped serving this model (shutting down or "
          "swapping models); retry";
      e.http_status = 503;
      channel->Push(std::move(e));
      return channel;
    }
    ++queued_;
    incoming_.push_back(std::move(seq));
  }
  cv_.notify_all();  // the restore thread waits on the same condition variable
  return channel;
}

void Executor::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const bool woke = cv_.wait_for(lock, std::chrono::seconds(5),
                                     [&] { return stop_ || !incoming_.empty() || Runnable(); });
      if (stop_) break;
      if (!woke) {
        lock.unlock();
        if (options_.cache) options_.cache->ExpireSessions();  // idle: sessions past their TTL
        continue;
      }
      if (active_.empty()) GatherBurst(lock);
      while (!incoming_.empty()) {
        incoming_.front()->arrived_step = steps_;
        active_.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    // Counted as running from the moment they are taken in, not only after a step (whose first
    // forward may take a while): the drain on SIGTERM must not see a busy executor as idle. And
    // after every step, whichever way it ended (a request failed for lack of KV blocks).
    NoteRunning();
    Step();
    NoteRunning();
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
  // A client that went away gets the usual end; the others an error that says why (a stream
  // shows it as an error event, not as a cut connection).
  for (auto& s : active_) {
    if (s->req.cancelled && s->req.cancelled->load()) {
      Finish(*s, "cancelled");
    } else {
      Fail(*s,
           "request cancelled: the server stopped serving this model (shutting down or "
           "swapping models) before it finished; retry",
           503);
    }
  }
  active_.clear();
}

void Executor::NoteRunning() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.running = static_cast<int>(active_.size());
}

void Executor::GatherBurst(std::unique_lock<std::mutex>& lock) {
  // Clients that send together (agents released by one event, a fan-out) reach the queue a few
  // milliseconds apart: HTTP threads parse and tokenize in parallel. Starting the first alone
  // makes it decode while the rest prefill behind the per-step prefill cap (measured: 8 requests
  // of 128 tokens took 9 steps to start instead of 2, the first stream's tokens 30x apart).
  constexpr int kBatchQuietMs = 2;
  if (options_.batch_window_ms <= 0) return;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(options_.batch_window_ms);
  size_t seen = incoming_.size();
  while (!stop_ && seen < static_cast<size_t>(options_.max_running)) {
    const auto quiet_end = std::min(
        deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(kBatchQuietMs));
    cv_.wait_until(lock, quiet_end, [&] { return stop_ || incoming_.size() != seen; });
    if (incoming_.size() == seen || std::chrono::steady_clock::now() >= deadline) break;
    seen = incoming_.size();
  }
  if (incoming_.size() > 1) {
    LOG_DEBUG("%zu requests start together (gathered in %.1f ms)", incoming_.size(),
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
  }
}

void Executor::Admit(Sequence& s) {
  s.running = true;
  if (s.counted_waiting) {
    s.counted_waiting = false;
    --queued_;
  }
  if (!options_.cache) return;
  if (!s.admitted) {
    s.admitted = true;
    options_.cache->BeginRequest(s.req.agent_id);
    s.root = options_.cache->RootFor(s.req.cache_salt);
  }
  // A fresh request computes at least its last prompt token (its logits start the generation);
  // a resumed one (preempted while decoding) needs no logits: all of its context may be cached.
  // RAM hits here; blocks on disk are read by the restore thread while other sequences run.
  const int reusable = s.pending >= 0 ? s.context_len : s.context_len - 1;
  options_.cache->Acquire(s.history, reusable, &s.kv, &s.keys, /*ram_only=*/true, s.root);
  s.published = s.keys.size();
  if (s.pending < 0) s.cached = s.kv.n_tokens;
  if (options_.cache->NextOnDisk(s.history, reusable, s.keys, s.root)) {
    s.restoring.store(true);
    std::lock_guard<std::mutex> lock(mu_);
    restore_queue_.push_back(&s);
    cv_.notify_all();
  } else if (s.kv.n_tokens > 0) {
    LOG_DEBUG("request %llu: %d context tokens cached in RAM",
              static_cast<unsigned long long>(s.req.id), s.kv.n_tokens);
  }
}

bool Executor::Follows(const std::vector<Sequence*>& order, size_t i) {
  Sequence& f = *order[i];
  const int bt = pool_.layout().block_tokens;
  if (!f.running || f.restoring.load() || f.kv.n_tokens >= f.context_len ||
      f.kv.n_tokens != static_cast<int>(f.keys.size()) * bt) {
    return false;  // not a prompt at a block boundary of blocks it took from the cache
  }
  const int reusable = f.pending >= 0 ? f.context_len : f.context_len - 1;
  if (f.kv.n_tokens + bt > reusable) return false;  // its next block is computed here
  const int before = f.kv.n_tokens;
  options_.cache->Acquire(f.history, reusable, &f.kv, &f.keys, /*ram_only=*/true, f.root);
  f.published = f.keys.size();
  if (f.pending < 0) f.cached = f.kv.n_tokens;
  if (f.kv.n_tokens != before) {
    LOG_DEBUG("request %llu: took %d more prompt tokens from the cache (published meanwhile)",
              static_cast<unsigned long long>(f.req.id), f.kv.n_tokens - before);
  }
  const int end = f.kv.n_tokens + bt;  // one past its next block
  if (end > reusable) return false;
  for (size_t k = 0; k < i; ++k) {
    const Sequence& l = *order[k];
    // l computes that block in its prefill (it is at or inside it, and its prompt covers it).
    if (l.running && !l.restoring.load() && l.root == f.root && l.kv.n_tokens >= f.kv.n_tokens &&
        l.kv.n_tokens < end && l.context_len >= end &&
        std::equal(l.history.begin(), l.history.begin() + end, f.history.begin())) {
      return true;
    }
  }
  return false;
}

void Executor::Preempt(Sequence& s) {
  // Its full blocks are published (and queued for the disk tier): they stay in the prefix cache
  // and are found again on resume. Only the partial last block is recomputed.
  LOG_INFO("request %llu preempted at %d tokens (KV blocks exhausted); it resumes from the cache",
           static_cast<unsigned long long>(s.req.id), s.kv.n_tokens);
  if (options_.cache) options_.cache->PersistHeld(s.history, s.kv, s.keys, s.root);
  s.kv.Clear(pool_);
  s.keys.clear();
  s.published = 0;
  s.running = false;
  if (s.pending >= 0) s.context_len = static_cast<int>(s.history.size()) - 1;
  std::lock_guard<std::mutex> lock(stats_mu_);
  ++stats_.preemptions;
}

void Executor::TuneChunking(const std::vector<models::BatchSeq>& batch,
                            const std::vector<Sequence*>& members, double ms) {
  int decodes = 0, prefill = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].tokens == &members[i]->pending)
      ++decodes;
    else
      prefill += batch[i].n_tokens;
  }
  constexpr double kAlpha = 0.3;
  if (prefill == 0) {
    decode_step_ms_ = decode_step_ms_ > 0 ? (1 - kAlpha) * decode_step_ms_ + kAlpha * ms : ms;
  } else if (decode_step_ms_ > 0) {
    const double per_token = std::max(0.0, ms - (decodes > 0 ? decode_step_ms_ : 0.0)) / prefill;
    prefill_ms_per_token_ = prefill_ms_per_token_ > 0
                                ? (1 - kAlpha) * prefill_ms_per_token_ + kAlpha * per_token
                                : per_token;
  }
  // A step with a prefill chunk may take about kItlFactor times a decode-only step. The floor is
  // low: deep in a long prompt a token's attention costs ~10 ms (6K positions, 2 busy cores), so
  // a floor of 16 made every step 5-6x a decode step (bench/itl_long_prompt).
  constexpr double kItlFactor = 2.5;
  if (decode_step_ms_ > 0 && prefill_ms_per_token_ > 0) {
    const double cap = (kItlFactor - 1.0) * decode_step_ms_ / prefill_ms_per_token_;
    sched_.prefill_cap_while_decoding =
        std::clamp(static_cast<int>(cap), 4, options_.step_token_budget);
  }
}

bool Executor::Runnable() const {
  for (const auto& s : active_) {
    if (!s->restoring.load()) return true;
  }
  return false;
}

void Executor::Release(Sequence& s) {
  s.running = false;
  if (s.counted_waiting) {  // ended before it ever ran (cancelled, failed, shutdown)
    s.counted_waiting = false;
    --queued_;
  }
  if (options_.cache && s.admitted) {
    options_.cache->PersistHeld(s.history, s.kv, s.keys, s.root);
    options_.cache->EndRequest(s.req.agent_id, s.keys, s.kv.n_tokens,
                               static_cast<int>(s.req.prompt.size()), s.cached,
                               s.req.cache_hold_ms);
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
  {
    std::lock_guard<std::mutex> lock(stats_mu_);  // counted before the client can see the end
    ++stats_.requests_done;
  }
  s.channel->Push(std::move(e));
}

void Executor::Fail(Sequence& s, const std::string& error, int http_status) {
  Event e;
  e.kind = Event::Kind::kError;
  e.error = error;
  e.http_status = http_status;
  Release(s);
  s.channel->Push(std::move(e));
}

Event Executor::Draw(Sequence& s, const float* row) const {
  const int n_vocab = logits_.n_vocab;
  Event e;
  e.token = s.sampler->Sample(row, n_vocab, s.history);
  if (s.req.logprobs) {
    const float max_l = *std::max_element(row, row + n_vocab);
    double sum = 0;
    for (int v = 0; v < n_vocab; ++v) sum += std::exp(row[v] - max_l);
    const float log_z = max_l + static_cast<float>(std::log(sum));
    e.logprob = row[e.token] - log_z;
    if (s.req.top_logprobs > 0) {
      std::vector<int32_t> ids(n_vocab);
      for (int v = 0; v < n_vocab; ++v) ids[v] = v;
      const int k = std::min(s.req.top_logprobs, n_vocab);
      std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                        [&](int a, int b) { return row[a] > row[b]; });
      for (int j = 0; j < k; ++j) e.top.push_back({ids[j], row[ids[j]] - log_z});
    }
  }
  return e;
}

bool Executor::Step() {
  // Drop cancelled sequences first (client went away): their blocks go back to the pool. A
  // sequence being restored is left alone until its restore ends.
  const auto now = std::chrono::steady_clock::now();
  for (auto it = active_.begin(); it != active_.end();) {
    Sequence& s = **it;
    const bool timed_out =
        s.req.deadline != std::chrono::steady_clock::time_point{} && now > s.req.deadline;
    if ((s.req.cancelled->load() || timed_out) && !s.restoring.load()) {
      if (timed_out && !s.req.cancelled->load()) {
        LOG_WARN("request %llu timed out (server.request_timeout) after %d tokens",
                 static_cast<unsigned long long>(s.req.id), s.generated);
      }
      Finish(s, s.req.cancelled->load() ? "cancelled" : "timeout");
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  if (active_.empty()) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.running = 0;
    return false;
  }

  // Plan the step (engine/scheduler.h): admissions, then decodes, prefill chunks, preemptions.
  std::vector<Sequence*> order;
  for (auto& sp : active_) order.push_back(sp.get());
  auto view = [&](const Sequence& s) {
    SchedSeq v;
    v.agent = s.req.agent_id;
    v.running = s.running;
    v.restoring = s.restoring.load();
    v.kv_tokens = s.kv.n_tokens;
    v.blocks = static_cast<int>(s.kv.blocks.size());
    v.to_prefill = std::max(0, s.context_len - s.kv.n_tokens);
    v.arrived_step = s.arrived_step;
    v.first_token_step = s.first_token_step;
    return v;
  };
  std::vector<SchedSeq> seqs;
  for (Sequence* s : order) seqs.push_back(view(*s));
  // A preempted sequence's blocks stay cached, and n_free() counts cached blocks, so admitting it
  // again right away would take back (through the prefix cache) the blocks its preemption freed
  // for an older sequence — which then preempts it again, forever (seen under load in
  // test_preemption_under_kv_pressure: millions of preemptions at the same position). After a
  // step that preempted and ran nothing, the next plan admits no one.
  if (!std::exchange(hold_admission_, false)) {
    for (int i : PlanAdmission(seqs, pool_.n_free(), sched_)) {
      Admit(*order[i]);
      seqs[i] = view(*order[i]);
    }
  }
  if (options_.cache) {
    for (size_t i = 1; i < order.size(); ++i) {
      const bool held = Follows(order, i);
      seqs[i] = view(*order[i]);  // it may have taken blocks
      seqs[i].held = held;
    }
  }
  const StepPlan plan = PlanStep(seqs, pool_.n_free(), sched_);
  for (int i : plan.preempt) Preempt(*order[i]);
  std::vector<models::BatchSeq> batch;
  std::vector<Sequence*> members;
  for (const StepPlan::Work& w : plan.work) {
    Sequence& s = *order[w.seq];
    if (!s.kv.Reserve(pool_, w.n_tokens).ok()) continue;  // blocks held elsewhere meanwhile
    const bool decode = s.kv.n_tokens >= s.context_len;
    batch.push_back(
        {decode ? &s.pending : s.history.data() + s.kv.n_tokens, w.n_tokens, &s.kv, false});
    members.push_back(&s);
  }
  if (batch.empty()) {
    if (!Runnable()) return false;  // only restores in flight: wait for them
    // A restore that ended after the plan was made, or blocks freed by preemption: plan again.
    bool restoring_in_plan = false;
    for (const SchedSeq& v : seqs) restoring_in_plan |= v.restoring;
    if (!plan.preempt.empty()) {
      hold_admission_ = true;
      return true;
    }
    if (restoring_in_plan) return true;
    // Nothing can run: the oldest sequence cannot get KV blocks although nothing else runs
    // (blocks held by pinned sessions or pending disk writes).
    auto it = std::find_if(active_.begin(), active_.end(),
                           [](const auto& p) { return !p->restoring.load(); });
    Fail(**it, "not enough KV cache for this request", 503);
    active_.erase(it);
    return true;
  }

  Timer step_timer;
  Status st = model_.Forward(batch, pool_, &logits_);
  const double step_ms = step_timer.Seconds() * 1e3;
  ++steps_;
  TuneChunking(batch, members, step_ms);
  if (log::GetLevel() <= log::Level::kDebug) {
    int decodes = 0, chunks = 0, prefill = 0, waiting = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].tokens == &members[i]->pending) {
        ++decodes;
      } else {
        ++chunks;
        prefill += batch[i].n_tokens;
      }
    }
    for (const auto& sp : active_) waiting += sp->running ? 0 : 1;
    LOG_DEBUG("step: %d decodes, %d prefill tokens in %d chunks, %d waiting, forward %.1f ms",
              decodes, prefill, chunks, waiting, step_ms);
  }
  if (!st.ok()) {
    LOG_ERROR("forward failed: %s", st.message().c_str());
    for (Sequence* s : members) {
      Fail(*s, "internal error: " + st.message(), 500);
      s->req.cancelled->store(true);  // removed at the next step (Finish is not sent twice)
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if ((*it)->req.cancelled->load())
        it = active_.erase(it);
      else
        ++it;
    }
    return true;
  }

  uint64_t generated = 0, prompt_done = 0;
  const auto sampled_at = std::chrono::steady_clock::now();
  std::vector<double> ttft, itl;  // seconds, observed under stats_mu_ below
  // Ends are delivered after this step's tokens are counted, so a client that scrapes /metrics
  // right after its response ends sees every token it received.
  std::vector<std::pair<Sequence*, const char*>> finished;
  // Publishing touches the shared cache: one sequence after another. Then the draws (and log
  // probabilities), which read only their own sequence, in parallel.
  std::vector<char> draws(members.size(), 0);
  for (size_t i = 0; i < members.size(); ++i) {
    Sequence& s = *members[i];
    if (options_.cache) {
      options_.cache->Publish(s.history, &s.kv, &s.keys, &s.published, s.root);
    }
    // Sliding-window layers: parts of blocks no later position attends to go back to the pool
    // (cached with their published blocks), once published above.
    if (options_.cache) {
      const int bt = pool_.layout().block_tokens;
      const int prompt_boundary = (static_cast<int>(s.req.prompt.size()) - 1) / bt * bt;
      options_.cache->DropSlidingBehind(s.history, &s.kv, s.keys, s.root, prompt_boundary);
    } else {
      s.kv.DropSlidingBehind(pool_);
    }
    if (batch[i].tokens != &s.pending) {  // a prefill chunk
      prompt_done += batch[i].n_tokens;
      if (s.kv.n_tokens < s.context_len) continue;  // more context to go
      if (s.pending >= 0) continue;  // resumed after preemption: its next token is known
    }
    draws[i] = 1;
  }
  std::vector<Event> drawn(members.size());
  const auto draw = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (draws[i]) drawn[i] = Draw(*members[i], logits_.Row(logits_.seq_row[i]));
    }
  };
  if (options_.pool != nullptr && members.size() > 1) {
    options_.pool->ParallelFor(static_cast<int64_t>(members.size()), draw);
  } else {
    draw(0, static_cast<int64_t>(members.size()));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    if (!draws[i]) continue;
    Sequence& s = *members[i];
    Event& e = drawn[i];
    const int32_t next = e.token;
    if (s.first_token_step < 0) s.first_token_step = steps_;
    (s.generated == 0 ? ttft : itl)
        .push_back(std::chrono::duration<double>(sampled_at -
                                                 (s.generated == 0 ? s.submitted : s.last_token))
                       .count());
    s.last_token = sampled_at;
    ++s.generated;
    ++generated;
    s.history.push_back(next);
    s.pending = next;
    if (tok_.IsEog(next)) {
      finished.emplace_back(&s, "stop");
      continue;
    }
    s.channel->Push(std::move(e));
    if (s.generated >= s.req.max_tokens || s.kv.n_tokens + 1 >= MaxContext()) {
      finished.emplace_back(&s, "length");
    }
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.tokens_generated += generated;
    stats_.prompt_tokens += prompt_done;
    ++stats_.steps;
    stats_.batch_size.Observe(static_cast<double>(batch.size()));
    for (double t : ttft) stats_.ttft_s.Observe(t);
    for (double t : itl) stats_.itl_s.Observe(t);
  }
  for (const auto& [s, reason] : finished) {
    Finish(*s, reason);
    s->req.cancelled->store(true);
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
  stats_.running = static_cast<int>(active_.size());
  return true;
}

}  // namespace semantic::engine

// The executor thread: owns model + KV pool, admits requests from a queue, and runs one batched
// forward per step — a decode token for every running sequence plus prefill chunks of waiting
// ones under a token budget (continuous batching) — then samples and streams events back.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "base/histogram.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "base/thread_pool.h"
#include "kv/kv_pool.h"
#include "kv/prefix_cache.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace semantic::engine {

struct ExecutorOptions {
  int max_running = 8;         // sequences decoded together
  int step_token_budget = 512; // tokens per forward (decode tokens + prefill chunk)
  int max_running_per_agent = 0;  // 0: no limit
  int max_queue = 0;              // requests waiting to start; 0: unbounded
  int max_context = 0;         // positions per sequence (0: the model's trained context)
  // A request that finds the executor idle waits up to this long for others sent with it (the
  // wait ends once kBatchQuietMs pass without a new one), so a burst starts in one step.
  int batch_window_ms = 0;
  kv::PrefixCache* cache = nullptr;  // prefix reuse + agent sessions (null: none)
  // Samples a step's sequences in parallel (each sequence's draw is its own: the same tokens as
  // one after another). Null: on the executor thread.
  ThreadPool* pool = nullptr;
};

// Upper bounds of the executor's histograms: seconds from Submit to the first sampled token,
// seconds between two tokens of one sequence, and sequences per forward step.
inline const std::vector<double> kTtftBucketsS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                  2.5,  5,     10,   30,  60,   120};
inline const std::vector<double> kItlBucketsS = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.05,
                                                 0.1,   0.25,   0.5,   1,    2.5};
inline const std::vector<double> kBatchSizeBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256};

struct ExecutorStats {
  uint64_t requests_done = 0;
  uint64_t tokens_generated = 0;
  uint64_t prompt_tokens = 0;
  int running = 0;
  int waiting = 0;
  uint64_t preemptions = 0;
  uint64_t steps = 0;  // forward passes
  Histogram ttft_s{kTtftBucketsS};
  Histogram itl_s{kItlBucketsS};
  Histogram batch_size{kBatchSizeBuckets};
};

class Executor {
 public:
  Executor(models::Model& model, kv::KvPool& pool, const tokenizer::Tokenizer& tok,
           const ExecutorOptions& options);
  ~Executor();

  void Start();
  // Finishes in-flight work? No: cancels everything still queued or running, then joins.
  void Stop();

  // Queues a request; events arrive on the returned channel. The request must be valid
  // (non-empty prompt that fits the context; see MaxContext).
  std::shared_ptr<ResultChannel> Submit(Request request);

  // Whether the waiting line is at max_queue (new requests should be refused with 429/529).
  bool QueueFull() const;
  int Queued() const { return queued_.load(); }
  // scheduler.max_queue while serving (configuration reload); 0: unbounded.
  void SetMaxQueue(int n) { max_queue_ = n; }

  // Positions one sequence may hold (prompt + generated).
  int MaxContext() const;
  ExecutorStats Stats() const;

 private:
  struct Sequence {
    Request req;
    std::shared_ptr<ResultChannel> channel;
    kv::SequenceKv kv;
    std::unique_ptr<Sampler> sampler;
    std::vector<int32_t> history;  // prompt + generated
    int context_len = 0;           // history tokens that must be in KV before the next decode
    bool running = false;          // admitted by the scheduler (holds a running slot)
    bool counted_waiting = true;   // still counted in queued_ (never admitted yet)
    int generated = 0;
    int32_t pending = -1;          // sampled token not yet fed to the model
    bool admitted = false;         // prefix cache consulted
    std::atomic<bool> restoring{false};  // blocks being read from disk by the restore thread
    int cached = 0;                // prompt tokens reused from the cache
    std::vector<uint64_t> keys;    // prefix keys of the full blocks in kv
    uint64_t root = 0;             // chain root (model fingerprint + cache salt)
    size_t published = 0;          // blocks of kv already published
    int64_t arrived_step = 0;      // steps_ when taken in (scheduler.h: SchedSeq)
    int64_t first_token_step = -1;  // steps_ after the step that sampled its first token
    std::chrono::steady_clock::time_point submitted;   // Submit(): TTFT starts here
    std::chrono::steady_clock::time_point last_token;  // when its last token was sampled
  };

  void Loop();
  // Idle and requests arrived: lets the rest of a burst arrive (batch_window_ms). Requires mu_.
  void GatherBurst(std::unique_lock<std::mutex>& lock);
  bool Step();  // false when idle
  void NoteRunning();  // stats_.running = active_.size()
  // Measures a step and sets the prefill cap for steps that also decode (scheduler.h).
  void TuneChunking(const std::vector<models::BatchSeq>& batch,
                    const std::vector<Sequence*>& members, double ms);
  bool Runnable() const;  // some active sequence is not waiting for a restore (requires mu_ or
                          // the executor thread)
  void Admit(Sequence& s);
  // For order[i], a running prompt at a block boundary: takes from the prefix cache the blocks
  // older sequences published since, then whether an older running prompt is computing its next
  // block (the same tokens from position 0, the same cache root; scheduler.h: SchedSeq::held).
  bool Follows(const std::vector<Sequence*>& order, size_t i);
  void Preempt(Sequence& s);  // parks a running sequence: blocks to the cache, back to waiting
  void RestoreLoop();  // restore thread: disk reads for admitted sequences, off the step loop
  void Release(Sequence& s);  // hands the KV back (cache bookkeeping first)
  // The sequence's next token from its logits row (its own sampler), with log probabilities
  // when asked; reads nothing shared, so a step draws its sequences in parallel.
  Event Draw(Sequence& s, const float* row) const;
  void Finish(Sequence& s, const std::string& reason);
  void Fail(Sequence& s, const std::string& error, int http_status);

  models::Model& model_;
  kv::KvPool& pool_;
  const tokenizer::Tokenizer& tok_;
  ExecutorOptions options_;
  SchedulerConfig sched_;
  int64_t steps_ = 0;                // forwards run (the scheduler's step clock)
  double decode_step_ms_ = 0;        // EMA of decode-only step time
  double prefill_ms_per_token_ = 0;  // EMA of the prefill cost per token
  // Set when a step preempted sequences but ran nothing: the next plan admits no one, so the
  // blocks freed go to the older sequence that needed them (see Step).
  bool hold_admission_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Sequence>> incoming_;
  bool stop_ = false;
  std::thread thread_;
  std::thread restore_thread_;
  std::deque<Sequence*> restore_queue_;  // guarded by mu_

  // Executor-thread state.
  std::list<std::unique_ptr<Sequence>> active_;  // admission order
  models::Logits logits_;

  std::atomic<int> queued_{0};  // submitted, never admitted yet
  std::atomic<int> max_queue_{0};  // options_.max_queue, changeable while serving
  mutable std::mutex stats_mu_;
  ExecutorStats stats_;
};

}  // namespace semantic::engine

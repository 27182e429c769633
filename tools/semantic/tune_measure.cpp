// TuneModel: loads a model for one (threads, block size) and measures prefill, single-stream
// decode and batched decode through engine::Executor, timing each token event as it arrives.
#include "tools/semantic/tune_measure.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <tuple>

#include "engine/executor.h"

namespace semantic::cli {
namespace {

using Clock = std::chrono::steady_clock;

// One request's events: when each token arrived (seconds after the submission), how it ended.
struct Stream {
  std::vector<double> token_s;
  std::string error;  // non-empty: the request failed
};

// Submits one request per prompt at once and waits until all of them end. One reader thread per
// request blocks on its channel, so each token is timed when the executor hands it over.
std::vector<Stream> RunStreams(engine::Executor& ex,
                               const std::vector<std::vector<int32_t>>& prompts, int max_tokens,
                               uint64_t seed) {
  const auto t0 = Clock::now();
  std::vector<std::shared_ptr<engine::ResultChannel>> channels;
  for (size_t i = 0; i < prompts.size(); ++i) {
    engine::Request r;
    r.id = i + 1;
    r.prompt = prompts[i];
    r.max_tokens = max_tokens;
    r.sampling.temperature = 1.0f;  // sampled, not greedy: random prompts rarely hit EOS early
    r.sampling.seed = seed + i;
    channels.push_back(ex.Submit(std::move(r)));
  }
  std::vector<Stream> out(prompts.size());
  std::vector<std::thread> readers;
  for (size_t i = 0; i < prompts.size(); ++i) {
    readers.emplace_back([&, i] {
      for (;;) {
        const auto events = channels[i]->Take(1000);
        const double now = std::chrono::duration<double>(Clock::now() - t0).count();
        for (const engine::Event& e : events) {
          if (e.kind == engine::Event::Kind::kToken) {
            out[i].token_s.push_back(now);
          } else {
            if (e.kind == engine::Event::Kind::kError) out[i].error = e.error;
            return;
          }
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  return out;
}

Status FirstError(const std::vector<Stream>& streams) {
  for (const Stream& s : streams) {
    if (!s.error.empty()) return Internal("measurement request failed: " + s.error);
    if (s.token_s.empty()) return Internal("measurement request produced no token");
  }
  return Status::Ok();
}

// Tokens per second while every stream decodes: tokens that arrived after the last stream's
// first token and up to the first stream's last token. When there is no such window (a stream
// ended at once, or a tiny model produced every token between two wake-ups of the readers), the
// tokens after the first ones over their span; failing that, all tokens over the time since the
// submission (prefill included: a lower bound, only for runs too short to resolve).
double DecodeRate(const std::vector<Stream>& streams) {
  double start = 0, end = 1e300, first = 1e300, last = 0;
  long in_window = 0, after_first = 0, total = 0;
  for (const Stream& s : streams) {
    start = std::max(start, s.token_s.front());
    end = std::min(end, s.token_s.back());
    first = std::min(first, s.token_s.front());
    last = std::max(last, s.token_s.back());
  }
  for (const Stream& s : streams) {
    for (double t : s.token_s) in_window += (t > start && t <= end);
    after_first += static_cast<long>(s.token_s.size()) - 1;
    total += static_cast<long>(s.token_s.size());
  }
  if (end > start && in_window > 0) return in_window / (end - start);
  if (last > first && after_first > 0) return after_first / (last - first);
  return total / std::max(last, 1e-9);
}

}  // namespace

bool TunePoint::operator<(const TunePoint& o) const {
  return std::tie(threads, block_tokens, prefill_chunk, max_batch) <
         std::tie(o.threads, o.block_tokens, o.prefill_chunk, o.max_batch);
}

Expected<std::unique_ptr<TuneModel>> TuneModel::Open(const std::string& path,
                                                     kernels::KvDtype kv_dtype,
                                                     const TunePoint& point, int max_batch,
                                                     const TuneWorkload& w) {
  std::unique_ptr<TuneModel> m(new TuneModel());
  m->threads_ = point.threads;
  m->block_tokens_ = point.block_tokens;
  const int bt = point.block_tokens;
  const int stream_blocks = (w.stream_prompt + w.gen_tokens + bt) / bt + 1;
  const int prefill_blocks = (w.prompt_tokens + 1 + bt) / bt + 1;
  engine::GeneratorOptions o;
  o.model_path = path;
  o.threads = point.threads;
  o.block_tokens = bt;
  o.kv_dtype = kv_dtype;
  o.context = (std::max(prefill_blocks, std::max(1, max_batch) * stream_blocks) + 2) * bt;
  auto gen = engine::Generator::Open(o);
  if (!gen.ok()) return gen.status();
  m->gen_ = std::move(*gen);
  const int n_ctx = m->gen_->model().config().n_ctx_train;
  if (n_ctx > 0 && (w.prompt_tokens + 1 > n_ctx || w.stream_prompt + w.gen_tokens > n_ctx)) {
    return OutOfRange("the model's context holds " + std::to_string(n_ctx) +
                      " positions: lower --prompt-tokens / --gen-tokens");
  }
  m->tokens_ = std::make_unique<RandomTokens>(m->gen_->model().config().n_vocab, 1234);
  // Warm-up (not timed): faults in the weights and wakes the thread pool.
  engine::Executor ex(m->gen_->mutable_model(), m->gen_->kv_pool(), m->gen_->tokenizer(), {});
  ex.Start();
  RETURN_IF_ERROR(FirstError(RunStreams(ex, {m->tokens_->Take(8)}, 2, 1)));
  return m;
}

Expected<TuneFigures> TuneModel::Measure(const TunePoint& point, const TuneWorkload& w) {
  engine::ExecutorOptions eo;
  eo.max_running = point.max_batch;
  eo.step_token_budget = point.prefill_chunk;
  eo.batch_window_ms = 0;  // the decode window starts once every stream decodes anyway
  engine::Executor ex(gen_->mutable_model(), gen_->kv_pool(), gen_->tokenizer(), eo);
  ex.Start();
  TuneFigures f;
  f.batch = point.max_batch;
  for (int rep = 0; rep < std::max(1, w.reps); ++rep) {
    const uint64_t seed = 1000 * (rep + 1);
    auto prefill = RunStreams(ex, {tokens_->Take(w.prompt_tokens)}, 1, seed);
    RETURN_IF_ERROR(FirstError(prefill));
    f.prefill_tps =
        std::max(f.prefill_tps, w.prompt_tokens / std::max(prefill[0].token_s[0], 1e-9));
    auto single = RunStreams(ex, {tokens_->Take(w.stream_prompt)}, w.gen_tokens, seed);
    RETURN_IF_ERROR(FirstError(single));
    f.decode_tps = std::max(f.decode_tps, DecodeRate(single));
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < point.max_batch; ++i) prompts.push_back(tokens_->Take(w.stream_prompt));
    auto batch = RunStreams(ex, prompts, w.gen_tokens, seed);
    RETURN_IF_ERROR(FirstError(batch));
    f.batch_tps = std::max(f.batch_tps, DecodeRate(batch));
  }
  return f;
}

}  // namespace semantic::cli

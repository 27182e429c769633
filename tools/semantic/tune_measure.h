// `semantic tune`'s measurements, through the serving path: a model loaded with a thread count
// and KV block size (engine::Generator), and an engine::Executor (the real scheduler and
// continuous batching) per batch size and prefill chunk, fed synthetic requests.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/generator.h"
#include "tools/semantic/synthetic.h"

namespace semantic::cli {

// Token counts of one measurement.
struct TuneWorkload {
  int prompt_tokens = 512;  // the prefill test's prompt
  int gen_tokens = 64;      // tokens each decoding stream generates
  int stream_prompt = 32;   // prompt of each decoding stream
  int reps = 2;             // repetitions; the best of them counts
};

// Tokens per second (> 0 once measured).
struct TuneFigures {
  double prefill_tps = 0;  // prompt tokens / time to the first token, one request alone
  double decode_tps = 0;   // one stream decoding alone
  double batch_tps = 0;    // all `batch` streams together, while all of them decode
  int batch = 0;           // streams in the batch test (= the executor's max_batch)
};

// Settings a measurement runs under.
struct TunePoint {
  int threads = 0;
  int block_tokens = 16;
  int prefill_chunk = 512;
  int max_batch = 8;
  bool operator<(const TunePoint& o) const;
};

class TuneModel {
 public:
  // Loads `path` with point.threads and point.block_tokens; the KV pool holds `max_batch`
  // streams of `w` at once (or the prefill test's prompt), and a warm-up request runs.
  // OutOfRange: `w` does not fit the model's trained context.
  static Expected<std::unique_ptr<TuneModel>> Open(const std::string& path,
                                                   kernels::KvDtype kv_dtype,
                                                   const TunePoint& point, int max_batch,
                                                   const TuneWorkload& w);

  bool Serves(const TunePoint& p) const {
    return p.threads == threads_ && p.block_tokens == block_tokens_;
  }
  const engine::Generator& generator() const { return *gen_; }

  // The three figures with an executor of point.max_batch / point.prefill_chunk.
  Expected<TuneFigures> Measure(const TunePoint& point, const TuneWorkload& w);

 private:
  TuneModel() = default;
  std::unique_ptr<engine::Generator> gen_;
  std::unique_ptr<RandomTokens> tokens_;
  int threads_ = 0;
  int block_tokens_ = 0;
};

}  // namespace semantic::cli

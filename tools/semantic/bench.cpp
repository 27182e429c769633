// `semantic bench`: llama-bench-style throughput on synthetic tokens — prompt processing (ppN:
// one batch of N tokens) and generation (tgN: N single-token decodes), after DEPTH tokens of KV.
// With --parallel P, tgN decodes P sequences together (one forward of P tokens per step, as the
// executor batches P streams) and reports their aggregate tokens per second. --shared-depth makes
// the DEPTH tokens one prefix that the P sequences share, as agents with a common cached prompt do.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "base/timer.h"
#include "kernels/ops.h"
#include "engine/generator.h"
#include "tools/semantic/commands.h"
#include "tools/semantic/synthetic.h"

namespace semantic::cli {
namespace {

struct BenchArgs {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int depth = 0;
  int threads = 0;
  int reps = 5;
  int batch = 512;
  int parallel = 1;
  bool shared_depth = false;
  int block_tokens = 16;
  bool json = false;
  bool membw = false;
  std::string device = "cpu";
  kernels::KvDtype kv_dtype = kernels::KvDtype::kF16;
};

// Read bandwidth of a 1 GiB buffer with all threads (GB/s, best of 5).
int MemoryBandwidth(const BenchArgs& a) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  std::vector<uint64_t> buf(n, 1);  // [n] u64, touched so pages are resident
  ThreadPool pool(a.threads > 0 ? a.threads : ThreadPool::DefaultThreads());
  double best = 0;
  volatile uint64_t sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::atomic<uint64_t> total{0};
    Timer t;
    pool.ParallelFor(static_cast<int64_t>(n / 4), [&](int64_t b, int64_t e) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int64_t q = b; q < e; ++q) {
        const size_t i = static_cast<size_t>(q) * 4;
        s0 += buf[i];
        s1 += buf[i + 1];
        s2 += buf[i + 2];
        s3 += buf[i + 3];
      }
      total.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
    });
    const double secs = t.Seconds();
    sink = sink + total.load();
    best = std::max(best, n * sizeof(uint64_t) / secs / 1e9);
  }
  if (a.json) {
    std::printf("{\"read_gbps\":%.3f,\"threads\":%d}\n", best, pool.size());
  } else {
    std::printf("memory read bandwidth: %.2f GB/s (%d threads)\n", best, pool.size());
  }
  return 0;
}

struct Result {
  std::string test;
  int n_tokens = 0;
  std::vector<double> tps;
  double Mean() const {
    double s = 0;
    for (double x : tps) s += x;
    return tps.empty() ? 0 : s / tps.size();
  }
  double Sd() const {
    if (tps.size() < 2) return 0;
    double m = Mean(), s = 0;
    for (double x : tps) s += (x - m) * (x - m);
    return std::sqrt(s / (tps.size() - 1));
  }
};

// Runs `tokens` through the model in chunks of `batch`, appending to seq.
Status Feed(engine::Generator& g, kv::SequenceKv& seq, const std::vector<int32_t>& tokens,
            int batch, models::Logits& logits) {
  for (size_t i = 0; i < tokens.size(); i += batch) {
    const int n = static_cast<int>(std::min<size_t>(batch, tokens.size() - i));
    RETURN_IF_ERROR(seq.Reserve(g.kv_pool(), n));
    RETURN_IF_ERROR(
        g.mutable_model().Forward({{tokens.data() + i, n, &seq, false}}, g.kv_pool(), &logits));
  }
  return Status::Ok();
}

// One prefix for all of seqs: seqs[0] computes it, the others hold its whole blocks (as the
// prefix cache hands out a cached prompt's blocks) and compute only the partial last block.
Status FillShared(engine::Generator& g, std::vector<kv::SequenceKv>& seqs,
                  const std::vector<int32_t>& prefix, int batch, models::Logits& logits) {
  RETURN_IF_ERROR(Feed(g, seqs[0], prefix, batch, logits));
  const int bt = g.kv_pool().layout().block_tokens;
  const int whole = static_cast<int>(prefix.size()) / bt;
  const std::vector<int32_t> rest(prefix.begin() + whole * bt, prefix.end());
  for (size_t j = 1; j < seqs.size(); ++j) {
    for (int b = 0; b < whole; ++b) {
      g.kv_pool().Retain(seqs[0].blocks[b]);
      seqs[j].blocks.push_back(seqs[0].blocks[b]);
    }
    seqs[j].n_tokens = whole * bt;
    RETURN_IF_ERROR(Feed(g, seqs[j], rest, batch, logits));
  }
  return Status::Ok();
}

int Run(BenchArgs a) {
  if (a.membw) return MemoryBandwidth(a);
  if (a.model.empty()) a.model = DefaultModelPath();
  engine::GeneratorOptions opts;
  opts.model_path = a.model;
  opts.threads = a.threads;
  opts.context = (a.depth + std::max(a.n_prompt, a.n_gen) + 64) * std::max(1, a.parallel);
  opts.block_tokens = a.block_tokens;
  opts.kv_dtype = a.kv_dtype;
  opts.cuda = a.device == "cuda";
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) {
    std::fprintf(stderr, "error: %s\n", gen.status().message().c_str());
    return 1;
  }
  engine::Generator& g = **gen;
  const int n_vocab = g.model().config().n_vocab;
  RandomTokens synth(n_vocab, 1234);
  models::Logits logits;
  std::vector<Result> results;
  auto run_test = [&](const std::string& name, int n, bool prompt) -> Status {
    const int P = prompt ? 1 : a.parallel;
    Result r{name + (P > 1 ? " x" + std::to_string(P) : "") +
                 (a.depth ? std::string(a.shared_depth && P > 1 ? " @ shared d" : " @ d") +
                                std::to_string(a.depth)
                          : ""),
             n,
             {}};
    for (int rep = -1; rep < a.reps; ++rep) {  // rep -1 is a warm-up
      std::vector<kv::SequenceKv> seqs(P);
      if (a.shared_depth) {
        RETURN_IF_ERROR(FillShared(g, seqs, synth.Take(a.depth), a.batch, logits));
      } else {
        for (auto& seq : seqs) RETURN_IF_ERROR(Feed(g, seq, synth.Take(a.depth), a.batch, logits));
      }
      std::vector<std::vector<int32_t>> toks(P);
      for (auto& t : toks) t = synth.Take(n);
      Timer t;
      if (prompt) {
        RETURN_IF_ERROR(Feed(g, seqs[0], toks[0], a.batch, logits));
      } else {
        std::vector<models::BatchSeq> batch(P);
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < P; ++j) {
            RETURN_IF_ERROR(seqs[j].Reserve(g.kv_pool(), 1));
            batch[j] = {&toks[j][i], 1, &seqs[j], false};
          }
          RETURN_IF_ERROR(g.mutable_model().Forward(batch, g.kv_pool(), &logits));
        }
      }
      const double secs = t.Seconds();
      for (auto& seq : seqs) seq.Clear(g.kv_pool());
      if (rep >= 0) r.tps.push_back(static_cast<double>(n) * P / secs);
    }
    results.push_back(r);
    return Status::Ok();
  };
  Status st;
  if (a.n_prompt > 0) st = run_test("pp" + std::to_string(a.n_prompt), a.n_prompt, true);
  if (st.ok() && a.n_gen > 0) st = run_test("tg" + std::to_string(a.n_gen), a.n_gen, false);
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  if (a.json) {
    std::printf(
        "{\"engine\":\"semantic\",\"model\":\"%s\",\"threads\":%d,\"kernels\":\"%s\","
        "\"device\":\"%s\",\"kv_dtype\":\"%s\",\"results\":[",
        a.model.c_str(), g.pool().size(), kernels::ActiveIsa(), g.model().Device().c_str(),
        kernels::KvDtypeName(a.kv_dtype));
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::printf("%s{\"test\":\"%s\",\"n_tokens\":%d,\"depth\":%d,\"tps_mean\":%.3f,"
                  "\"tps_sd\":%.3f,\"samples\":[",
                  i ? "," : "", r.test.c_str(), r.n_tokens, a.depth, r.Mean(), r.Sd());
      for (size_t j = 0; j < r.tps.size(); ++j) std::printf("%s%.3f", j ? "," : "", r.tps[j]);
      std::printf("]}");
    }
    std::printf("]}\n");
  } else {
    std::printf("| model | threads | kernels | kv | test | t/s |\n|---|---|---|---|---|---|\n");
    const std::string where = opts.cuda ? g.model().Device() : kernels::ActiveIsa();
    for (const Result& r : results) {
      std::printf("| %s | %d | %s | %s | %s | %.2f ± %.2f |\n", g.model().config().name.c_str(),
                  g.pool().size(), where.c_str(), kernels::KvDtypeName(a.kv_dtype),
                  r.test.c_str(), r.Mean(), r.Sd());
    }
  }
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure prompt-processing and generation speed on synthetic tokens");
  cmd->add_option("-m,--model", args->model, "GGUF file, HF/MLX safetensors folder or cached HF id (default: the bundled SmolLM2)");
  cmd->add_option("-p,--n-prompt", args->n_prompt, "Prompt tokens (ppN test; 0 = skip)")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-n,--n-gen", args->n_gen, "Generated tokens (tgN test; 0 = skip)")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-d,--depth", args->depth, "Tokens of KV filled before each test")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("-r,--repetitions", args->reps, "Repetitions")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--block-tokens", args->block_tokens, "Tokens per KV block")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("-b,--batch", args->batch, "Tokens per forward pass in prompt processing")
      ->check(CLI::Range(1, 1 << 16))->capture_default_str();
  cmd->add_option("--parallel", args->parallel,
                  "Sequences decoded together in tgN (one forward of P tokens per step); t/s is "
                  "their aggregate")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_flag("--shared-depth", args->shared_depth,
                "With --parallel: the DEPTH tokens are one prefix that all sequences share (its "
                "whole blocks held once, as agents with a common cached prompt)");
  AddKvDtypeOption(cmd, &args->kv_dtype);
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->add_option("--device", args->device,
                  "cpu, or cuda: the GPU (a SEMANTIC_CUDA build; llama, qwen2, qwen3; "
                  "docs/cuda.md)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_flag("--memory-bandwidth", args->membw, "Measure memory read bandwidth instead");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace semantic::cli

// `semantic perplexity`: perplexity of a text file in llama-perplexity's way (chunks of --ctx
// tokens, BOS first, the second half of each chunk scored), for one or more KV dtypes, plus the KL
// divergence of each quantized cache's next-token distributions from the f16 cache's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/timer.h"
#include "engine/generator.h"
#include "kernels/ops.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string file;
  int ctx = 512;
  int chunks = 0;  // 0: all whole chunks of the file
  int threads = 0;
  int block_tokens = 16;
  std::vector<kernels::KvDtype> dtypes{kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0,
                                       kernels::KvDtype::kQ4_0};
  bool json = false;
};

// Per-dtype running statistics over scored positions.
struct Stats {
  std::vector<double> nll;  // [scored] -log p(next token)
  std::vector<double> kl;   // [scored] KL(f16 || this), empty for f16
  int same_top = 0;         // positions whose argmax equals the f16 cache's

  static double Mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / v.size();
  }
  static double StdErr(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    const double m = Mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (v.size() - 1) / v.size());
  }
  static double Quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
  }
  double Ppl() const { return std::exp(Mean(nll)); }
};

// log-softmax of row x ([n] logits) into out.
void LogSoftmax(const float* x, int n, float* out) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  const float lse = mx + static_cast<float>(std::log(sum));
  for (int i = 0; i < n; ++i) out[i] = x[i] - lse;
}

int Run(PerplexityArgs a) {
  if (a.model.empty()) a.model = DefaultModelPath();
  std::ifstream in(a.file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "error: cannot read %s\n", a.file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // f16 first: the reference for KL and relative perplexity.
  std::vector<kernels::KvDtype> dtypes{kernels::KvDtype::kF16};
  for (kernels::KvDtype d : a.dtypes)
    if (std::find(dtypes.begin(), dtypes.end(), d) == dtypes.end()) dtypes.push_back(d);

  engine::GeneratorOptions opts;
  opts.model_path = a.model;
  opts.threads = a.threads;
  opts.context = a.ctx;
  opts.block_tokens = a.block_tokens;
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) {
    std::fprintf(stderr, "error: %s\n", gen.status().message().c_str());
    return 1;
  }
  engine::Generator& g = **gen;
  const auto& tok = g.tokenizer();
  std::vector<int32_t> tokens = tok.Encode(text, /*add_special=*/true, /*parse_special=*/false);
  const int n_vocab = g.model().config().n_vocab;
  const int max_chunks = static_cast<int>(tokens.size()) / a.ctx;
  const int n_chunks = a.chunks > 0 ? std::min(a.chunks, max_chunks) : max_chunks;
  if (n_chunks < 1) {
    std::fprintf(stderr, "error: %s has %zu tokens; need at least --ctx %d\n", a.file.c_str(),
                 tokens.size(), a.ctx);
    return 1;
  }
  std::vector<std::unique_ptr<kv::KvPool>> pools;
  for (kernels::KvDtype d : dtypes) {
    const kv::KvLayout layout = g.model().KvLayoutFor(a.block_tokens, d);
    if (Status st = kv::ValidateKvLayout(layout); !st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.message().c_str());
      return 1;
    }
    pools.push_back(
        std::make_unique<kv::KvPool>(layout, (a.ctx + a.block_tokens - 1) / a.block_tokens));
  }
  std::fprintf(stderr, "[perplexity] %s: %zu tokens, %d chunks of %d, %zu KV dtypes, %d threads\n",
               a.file.c_str(), tokens.size(), n_chunks, a.ctx, dtypes.size(), g.pool().size());

  const int first = a.ctx / 2, n_score = a.ctx - 1 - first;
  std::vector<Stats> stats(dtypes.size());
  std::vector<float> base(static_cast<size_t>(n_score) * n_vocab);  // f16 log-probs, this chunk
  std::vector<int32_t> base_top(n_score);
  std::vector<float> lp(n_vocab);
  models::Logits logits;
  Timer timer;
  for (int c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + static_cast<size_t>(c) * a.ctx,
                               tokens.begin() + static_cast<size_t>(c + 1) * a.ctx);
    if (tok.add_bos() && tok.bos_id() >= 0) chunk[0] = tok.bos_id();
    for (size_t d = 0; d < dtypes.size(); ++d) {
      kv::SequenceKv seq;
      Status st = seq.Reserve(*pools[d], a.ctx);
      if (st.ok()) {
        st = g.mutable_model().Forward({{chunk.data(), a.ctx, &seq, true}}, *pools[d], &logits);
      }
      seq.Clear(*pools[d]);
      if (!st.ok()) {
        std::fprintf(stderr, "error: %s\n", st.message().c_str());
        return 1;
      }
      for (int i = 0; i < n_score; ++i) {
        const int row = first + i;
        float* out = d == 0 ? base.data() + static_cast<size_t>(i) * n_vocab : lp.data();
        LogSoftmax(logits.Row(row), n_vocab, out);
        stats[d].nll.push_back(-out[chunk[row + 1]]);
        const int32_t top = static_cast<int32_t>(std::max_element(out, out + n_vocab) - out);
        if (d == 0) {
          base_top[i] = top;
          continue;
        }
        const float* p = base.data() + static_cast<size_t>(i) * n_vocab;
        double kl = 0;
        for (int v = 0; v < n_vocab; ++v)
          kl += std::exp(static_cast<double>(p[v])) * (p[v] - out[v]);
        stats[d].kl.push_back(std::max(0.0, kl));
        stats[d].same_top += top == base_top[i];
      }
    }
    std::fprintf(stderr, "[%d/%d] f16 ppl %.4f", c + 1, n_chunks, stats[0].Ppl());
    for (size_t d = 1; d < dtypes.size(); ++d)
      std::fprintf(stderr, ", %s %.4f", kernels::KvDtypeName(dtypes[d]), stats[d].Ppl());
    std::fprintf(stderr, " (%.0f s)\n", timer.Seconds());
  }

  const double base_ppl = stats[0].Ppl();
  if (a.json)
    std::printf("{\"file\":\"%s\",\"ctx\":%d,\"chunks\":%d,\"scored\":%zu,\"results\":[",
                a.file.c_str(), a.ctx, n_chunks, stats[0].nll.size());
  else
    std::printf(
        "| kv | ppl | Δppl vs f16 | mean KL vs f16 | KL p99 | KL max | same top-1 |\n"
        "|---|---|---|---|---|---|---|\n");
  for (size_t d = 0; d < dtypes.size(); ++d) {
    const Stats& s = stats[d];
    const double ppl = s.Ppl(), ppl_err = ppl * Stats::StdErr(s.nll);
    const double rel = 100.0 * (ppl / base_ppl - 1.0);
    const double same = s.kl.empty() ? 100.0 : 100.0 * s.same_top / s.kl.size();
    if (a.json) {
      std::printf(
          "%s{\"kv_dtype\":\"%s\",\"ppl\":%.5f,\"ppl_err\":%.5f,\"dppl_pct\":%.4f,"
          "\"kl_mean\":%.6f,\"kl_err\":%.6f,\"kl_p99\":%.6f,\"kl_max\":%.6f,"
          "\"same_top1_pct\":%.3f}",
          d ? "," : "", kernels::KvDtypeName(dtypes[d]), ppl, ppl_err, rel, Stats::Mean(s.kl),
          Stats::StdErr(s.kl), Stats::Quantile(s.kl, 0.99), Stats::Quantile(s.kl, 1.0), same);
    } else {
      std::printf("| %s | %.4f ± %.4f | %+.3f%% | %.5f ± %.5f | %.4f | %.4f | %.2f%% |\n",
                  kernels::KvDtypeName(dtypes[d]), ppl, ppl_err, rel, Stats::Mean(s.kl),
                  Stats::StdErr(s.kl), Stats::Quantile(s.kl, 0.99), Stats::Quantile(s.kl, 1.0),
                  same);
    }
  }
  if (a.json) std::printf("]}\n");
  return 0;
}

}  // namespace

void RegisterPerplexity(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity",
      "Perplexity of a text file and KL divergence of quantized KV caches from the f16 cache");
  cmd->add_option("-f,--file", args->file, "Text file")->required();
  cmd->add_option("-m,--model", args->model, "GGUF file, HF/MLX safetensors folder or cached HF id (default: the bundled SmolLM2)");
  cmd->add_option("-c,--ctx", args->ctx, "Tokens per chunk (the second half of each is scored)")
      ->check(CLI::Range(16, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--chunks", args->chunks, "Chunks to evaluate (0 = all)")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  AddKvDtypeListOption(cmd, &args->dtypes,
                       "KV dtypes to compare, comma-separated (f16 always runs as the reference)",
                       "f16,q8_0,q4_0");
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace semantic::cli

// `semantic generate`: stream a continuation of --prompt (or chat interactively) to stdout and
// report prefill/decode speed on stderr.
#include <cstdio>
#include <iostream>
#include <string>

#include "engine/generator.h"
#include "kernels/ops.h"
#include "server/api/common/chat_render.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  std::string system;
  bool chat = false;
  bool print_ids = false;
  bool quiet = false;
  int max_tokens = 256;
  int threads = 0;
  int context = 4096;
  kernels::KvDtype kv_dtype = kernels::KvDtype::kF16;
  engine::SamplingParams sampling;
  long long seed = -1;
};

void PrintStats(const engine::GenerationStats& s) {
  const double pf = s.prefill_seconds > 0 ? s.prompt_tokens / s.prefill_seconds : 0;
  const double dc = s.decode_seconds > 0 ? s.decode_steps / s.decode_seconds : 0;
  std::fprintf(stderr,
               "\n[prefill] %d tokens in %.3f s (%.1f tok/s)  [decode] %d tokens in %.3f s "
               "(%.1f tok/s)  finish: %s\n",
               s.prompt_tokens, s.prefill_seconds, pf, s.decode_steps, s.decode_seconds, dc,
               s.finish_reason.c_str());
}

// Runs one generation and streams it; returns the generated text.
Expected<std::string> RunOnce(engine::Generator& gen, const std::string& text,
                              const GenerateArgs& a) {
  const auto& tok = gen.tokenizer();
  std::vector<int32_t> ids = tok.Encode(text, /*add_special=*/true, /*parse_special=*/a.chat);
  tokenizer::StreamingDetokenizer detok(tok);
  std::string produced;
  std::vector<int32_t> out_ids;
  auto stats = gen.Generate(ids, a.max_tokens, a.sampling, [&](int32_t id) {
    out_ids.push_back(id);
    std::string piece = detok.Push(id);
    produced += piece;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!stats.ok()) return stats.status();
  std::string rest = detok.Flush();
  produced += rest;
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  if (a.print_ids) {
    std::printf("\n[ids]");
    for (int32_t id : out_ids) std::printf(" %d", id);
  }
  std::printf("\n");
  std::fflush(stdout);
  if (!a.quiet) PrintStats(*stats);
  return produced;
}

int Run(GenerateArgs a) {
  if (a.model.empty()) a.model = DefaultModelPath();
  a.sampling.seed = a.seed < 0 ? ~0ull : static_cast<uint64_t>(a.seed);
  engine::GeneratorOptions opts;
  opts.model_path = a.model;
  opts.threads = a.threads;
  opts.context = a.context;
  opts.kv_dtype = a.kv_dtype;
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) {
    std::fprintf(stderr, "error: %s\n", gen.status().message().c_str());
    return 1;
  }
  if (!a.quiet) {
    const auto& c = (*gen)->model().config();
    std::fprintf(stderr, "[model] %s (%s, %d layers, %d threads, kernels %s)\n", a.model.c_str(),
                 c.arch.c_str(), c.n_layers, (*gen)->pool().size(), kernels::ActiveIsa());
  }
  const auto& tok = (*gen)->tokenizer();
  auto renderer = server::ChatRenderer::ForModel((*gen)->gguf(), tok);
  if (!renderer.ok()) {
    std::fprintf(stderr, "error: %s\n", renderer.status().message().c_str());
    return 1;
  }
  nlohmann::json history = nlohmann::json::array();
  if (!a.system.empty()) history.push_back({{"role", "system"}, {"content", a.system}});
  auto render = [&]() -> Expected<std::string> {
    return (*renderer)->Render(history, nlohmann::json(), true);
  };
  if (!a.prompt.empty()) {
    std::string text = a.prompt;
    if (a.chat) {
      history.push_back({{"role", "user"}, {"content", a.prompt}});
      auto r = render();
      if (!r.ok()) {
        std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
        return 1;
      }
      text = *r;
    }
    auto r = RunOnce(**gen, text, a);
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      return 1;
    }
    return 0;
  }
  // Interactive chat: one user turn per line until EOF.
  a.chat = true;
  std::fprintf(stderr, "Interactive chat. Type a message and press Enter; Ctrl-D quits.\n");
  std::string line;
  while (true) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    history.push_back({{"role", "user"}, {"content", line}});
    auto text = render();
    auto r = text.ok() ? RunOnce(**gen, *text, a) : Expected<std::string>(text.status());
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      history.erase(history.end() - 1);
      continue;
    }
    history.push_back({{"role", "assistant"}, {"content", *r}});
  }
  return 0;
}

}  // namespace

void RegisterGenerate(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Stream a continuation of a prompt (or chat interactively without --prompt)");
  cmd->add_option("-m,--model", args->model, "GGUF file, HF/MLX safetensors folder or cached HF id (default: the bundled SmolLM2)");
  cmd->add_option("-p,--prompt", args->prompt, "Prompt text; omit for an interactive chat");
  cmd->add_flag("--chat", args->chat, "Wrap the prompt as a chat user turn with the model's chat template");
  cmd->add_option("--system", args->system, "System message for --chat");
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Maximum new tokens")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--temperature", args->sampling.temperature, "0 = greedy")
      ->check(CLI::Range(0.0, 10.0))->capture_default_str();
  cmd->add_option("--top-k", args->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", args->sampling.top_p, "Top-p (1 = off)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--min-p", args->sampling.min_p, "Min-p (0 = off)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--repeat-penalty", args->sampling.repeat_penalty, "1 = off")
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", args->sampling.frequency_penalty)->capture_default_str();
  cmd->add_option("--presence-penalty", args->sampling.presence_penalty)->capture_default_str();
  cmd->add_option("-s,--seed", args->seed, "RNG seed (-1 = random)")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("-c,--context", args->context, "KV context size in tokens")
      ->check(CLI::Range(16, 1 << 22))->capture_default_str();
  AddKvDtypeOption(cmd, &args->kv_dtype);
  cmd->add_flag("--print-ids", args->print_ids, "Also print the generated token ids");
  cmd->add_flag("-q,--quiet", args->quiet, "No model/speed lines on stderr");
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace semantic::cli

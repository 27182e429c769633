// `semantic serve`: load the model, start the executor thread and the HTTP server.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/log.h"
#include "engine/executor.h"
#include "engine/generator.h"
#include "kernels/ops.h"
#include "server/http/server.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

struct ServeArgs {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8000;
  int context = 8192;
  int threads = 0;
  int max_batch = 8;
  int block_tokens = 16;
  int prefill_chunk = 512;
  double kv_budget_mib = 1024;
};

server::HttpServer* g_server = nullptr;

void OnSignal(int) {
  if (g_server) g_server->Stop();
}

int Run(ServeArgs a) {
  if (a.model.empty()) a.model = DefaultModelPath();
  engine::GeneratorOptions opts;
  opts.model_path = a.model;
  opts.threads = a.threads;
  opts.context = a.context;  // resized below once the model's KV size per token is known
  opts.block_tokens = a.block_tokens;
  LOG_INFO("loading %s", a.model.c_str());
  auto gen = engine::Generator::Open(opts);
  if (!gen.ok()) {
    std::fprintf(stderr, "error: %s\n", gen.status().message().c_str());
    return 1;
  }
  engine::Generator& g = **gen;
  {
    // KV pool: room for one full context at least, up to a RAM budget shared by all sequences.
    const auto& c = g.model().config();
    const double bytes_per_token = 2.0 * 2 * c.n_layers * c.n_head_kv * c.head_dim;  // f16 K+V
    const long long budget_tokens = static_cast<long long>(a.kv_budget_mib * 1048576.0 /
                                                           bytes_per_token);
    const long long tokens = std::max<long long>(a.context, budget_tokens);
    g.ResizeKvPool(static_cast<int>((tokens + a.block_tokens - 1) / a.block_tokens));
    LOG_INFO("KV pool: %lld tokens (%.0f MiB)", tokens, tokens * bytes_per_token / 1048576.0);
  }
  const auto& tok = g.tokenizer();
  auto chat = server::ChatRenderer::Create(
      g.gguf().GetStringOr("tokenizer.chat_template", ""),
      tok.bos_id() >= 0 ? tok.TokenToPiece(tok.bos_id(), true) : "",
      tok.eos_id() >= 0 ? tok.TokenToPiece(tok.eos_id(), true) : "");
  if (!chat.ok()) {
    std::fprintf(stderr, "error: %s\n", chat.status().message().c_str());
    return 1;
  }
  engine::ExecutorOptions eo;
  eo.max_running = a.max_batch;
  eo.step_token_budget = a.prefill_chunk;
  eo.max_context = a.context;
  engine::Executor exec(g.mutable_model(), g.kv_pool(), tok, eo);
  exec.Start();

  server::ModelHandle handle;
  handle.path = a.model;
  handle.id = std::filesystem::path(a.model).stem().string();
  handle.config = &g.model().config();
  handle.tokenizer = &tok;
  handle.chat = chat->get();
  handle.executor = &exec;
  handle.block_tokens = a.block_tokens;
  server::ServerOptions so;
  so.host = a.host;
  so.port = a.port;
  server::HttpServer http(so, handle);
  g_server = &http;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  http.SetReady(true);
  LOG_INFO("model %s ready (%s, %d layers, context %d, %d threads, kernels %s)",
           handle.id.c_str(), handle.config->arch.c_str(), handle.config->n_layers,
           exec.MaxContext(), g.pool().size(), kernels::ActiveIsa());
  Status st = http.Run();
  g_server = nullptr;
  exec.Stop();
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  LOG_INFO("stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the OpenAI-compatible HTTP server");
  cmd->add_option("-m,--model", args->model, "GGUF model file (default: the bundled SmolLM2)");
  cmd->add_option("--host", args->host, "Address to bind")->capture_default_str();
  cmd->add_option("-p,--port", args->port, "Port")->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("-c,--context", args->context, "Context tokens per sequence")
      ->check(CLI::Range(64, 1 << 20))->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Compute threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-batch", args->max_batch, "Sequences decoded together")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--block-tokens", args->block_tokens, "KV block size in tokens")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--prefill-chunk", args->prefill_chunk, "Tokens per forward step")
      ->check(CLI::Range(16, 1 << 16))->capture_default_str();
  cmd->add_option("--kv-budget-mib", args->kv_budget_mib, "RAM for the KV cache (MiB)")
      ->check(CLI::Range(16.0, 1e7))->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace semantic::cli

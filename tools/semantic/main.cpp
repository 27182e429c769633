// `semantic` entry point: dispatches to subcommands (inspect, generate, ...).
#include <cstdio>

#include "tools/semantic/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"semantic: local LLM inference server with persistent per-agent KV caches"};
  app.require_subcommand(1);
  int exit_code = 0;
  semantic::cli::RegisterInspect(app, exit_code);
  semantic::cli::RegisterGenerate(app, exit_code);
  semantic::cli::RegisterBench(app, exit_code);
  semantic::cli::RegisterPerplexity(app, exit_code);
  semantic::cli::RegisterServe(app, exit_code);
  semantic::cli::RegisterConfig(app, exit_code);
  semantic::cli::RegisterVersion(app, exit_code);
  semantic::cli::RegisterCache(app, exit_code);
  semantic::cli::RegisterModels(app, exit_code);
  semantic::cli::RegisterScenario(app, exit_code);
  semantic::cli::RegisterTune(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

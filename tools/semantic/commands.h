// Subcommands of the `semantic` binary; each registers itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "config/settings.h"
#include "kernels/kv_dtype.h"

namespace semantic::cli {

// Each Register* adds a subcommand whose callback sets `exit_code`.
void RegisterInspect(CLI::App& app, int& exit_code);
void RegisterGenerate(CLI::App& app, int& exit_code);
void RegisterBench(CLI::App& app, int& exit_code);
void RegisterPerplexity(CLI::App& app, int& exit_code);
void RegisterServe(CLI::App& app, int& exit_code);
void RegisterConfig(CLI::App& app, int& exit_code);
void RegisterVersion(CLI::App& app, int& exit_code);
void RegisterCache(CLI::App& app, int& exit_code);
void RegisterModels(CLI::App& app, int& exit_code);
void RegisterScenario(CLI::App& app, int& exit_code);
void RegisterTune(CLI::App& app, int& exit_code);

// Default model path: $SEMANTIC_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf beside the
// binary's source tree or the working directory.
std::string DefaultModelPath();

// Ok for device cpu, and for cuda in a CUDA build with a usable device; else why it cannot run
// (exit 2 at start-up): a build without SEMANTIC_CUDA, or no usable CUDA device ("no CUDA
// device: <reason>") (device_check.cpp).
Status CheckDevice(config::Device device);

// Adds --kv-dtype {f16,q8_0,q4_0} to cmd, stored in *out.
void AddKvDtypeOption(CLI::App* cmd, kernels::KvDtype* out);
// --kv-dtype taking a comma-separated list (perplexity).
void AddKvDtypeListOption(CLI::App* cmd, std::vector<kernels::KvDtype>* out,
                          const std::string& help, const std::string& default_list);

}  // namespace semantic::cli

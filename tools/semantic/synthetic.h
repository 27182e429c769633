// What `semantic bench` and `semantic tune` share: synthetic prompts (random token ids, so no two
// measurements share a cached prefix) and a description of the machine they ran on.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace semantic::cli {

// Uniform random token ids in [0, n_vocab), from a fixed seed: the same run gives the same ids.
class RandomTokens {
 public:
  RandomTokens(int n_vocab, uint32_t seed) : n_vocab_(n_vocab), rng_(seed) {}
  std::vector<int32_t> Take(int n);

 private:
  int n_vocab_;
  std::mt19937 rng_;
};

struct MachineInfo {
  std::string cpu;      // "model name" of /proc/cpuinfo ("unknown CPU" when absent)
  int cores = 0;        // usable by this process (sched affinity): ThreadPool::DefaultThreads()
  int logical = 0;      // logical CPUs of the machine (std::thread::hardware_concurrency)
  std::string kernels;  // active kernel ISA (kernels::ActiveIsa)
  std::string load_average;  // 1, 5 and 15 minute load averages of /proc/loadavg ("" when absent)
};

MachineInfo DescribeMachine();

}  // namespace semantic::cli

// RandomTokens and DescribeMachine.
#include "tools/semantic/synthetic.h"

#include <fstream>
#include <thread>

#include "base/thread_pool.h"
#include "kernels/ops.h"

namespace semantic::cli {

std::vector<int32_t> RandomTokens::Take(int n) {
  std::vector<int32_t> t(n > 0 ? n : 0);
  for (auto& x : t) x = static_cast<int32_t>(rng_() % static_cast<uint32_t>(n_vocab_));
  return t;
}

MachineInfo DescribeMachine() {
  MachineInfo m;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    if (begin != std::string::npos) m.cpu = line.substr(begin);
    break;
  }
  if (m.cpu.empty()) m.cpu = "unknown CPU";
  m.cores = ThreadPool::DefaultThreads();
  m.logical = static_cast<int>(std::thread::hardware_concurrency());
  m.kernels = kernels::ActiveIsa();
  std::ifstream load("/proc/loadavg");
  for (int i = 0; i < 3 && load; ++i) {
    std::string field;
    if (load >> field) m.load_average += (i ? " " : "") + field;
  }
  return m;
}

}  // namespace semantic::cli

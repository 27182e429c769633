// Monotonic wall-clock timing helpers.
#pragma once

#include <chrono>

namespace semantic {

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Timer {
 public:
  Timer() : start_(NowSeconds()) {}
  double Seconds() const { return NowSeconds() - start_; }
  void Reset() { start_ = NowSeconds(); }

 private:
  double start_;
};

}  // namespace semantic

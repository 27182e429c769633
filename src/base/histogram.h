// Fixed-bucket histogram in the Prometheus style (counts per upper bound, plus sum and count), for
// latency and batch-size metrics. Not synchronised: its owner guards it.
#pragma once

#include <cstdint>
#include <vector>

namespace semantic {

class Histogram {
 public:
  // `upper_bounds` ascending; a final +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds = {});

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations per bucket, not cumulative: bounds().size() + 1 entries, the last one +Inf.
  const std::vector<uint64_t>& bucket_counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // [bounds_.size() + 1]
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace semantic

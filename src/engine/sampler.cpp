// Sampler chain implementation.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <emmintrin.h>

#include "kernels/ops.h"

namespace semantic::engine {

namespace {

// The largest of x[0, n) (n >= 1) that a scan keeping `x > m ? x : m` from x[0] finds: four
// lanes at a time (SSE2, the baseline ISA; NaN never wins: maxps returns its second operand when
// either is NaN).
float MaxOf(const float* x, int n) {
  __m128 m4 = _mm_set1_ps(x[0]);
  int i = 0;
  for (; i + 4 <= n; i += 4) m4 = _mm_max_ps(_mm_loadu_ps(x + i), m4);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, m4);
  float m = lanes[0];
  for (int l = 1; l < 4; ++l) m = lanes[l] > m ? lanes[l] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum in double of x[0, n) in four interleaved chains (a fixed order: the same bits every run).
double SumOf(const float* x, size_t n) {
  double s[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) s[l] += x[i + l];
  for (; i < n; ++i) s[0] += x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

bool ByLogit(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

}  // namespace

int32_t Argmax(const float* logits, int n_vocab) {
  if (n_vocab <= 0 || std::isnan(logits[0])) return 0;  // nothing compares greater than NaN
  // The maximum, then its first occurrence: the first maximum, as a scan finds it.
  const float m = MaxOf(logits, n_vocab);
  for (int i = 0; i < n_vocab; ++i)
    if (logits[i] == m) return i;
  return 0;
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params),
      rng_(params.seed == ~0ull ? std::random_device{}() : params.seed) {}

namespace {

// Applies the penalties to logit_at(id) (a float&) for every id of the window's history below n.
template <class LogitAt>
void Penalize(const std::vector<int32_t>& history, const SamplingParams& p, size_t n,
              LogitAt logit_at) {
  if (p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f)
    return;
  size_t start = 0;
  if (p.penalty_last_n >= 0 && history.size() > static_cast<size_t>(p.penalty_last_n))
    start = history.size() - p.penalty_last_n;
  std::unordered_map<int32_t, int> counts;
  for (size_t i = start; i < history.size(); ++i) ++counts[history[i]];
  for (const auto& [id, k] : counts) {
    if (id < 0 || static_cast<size_t>(id) >= n) continue;
    float& l = logit_at(id);
    if (p.repeat_penalty != 1.0f) l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
    l -= k * p.frequency_penalty + p.presence_penalty;
  }
}

}  // namespace

void Sampler::ApplyPenalties(std::vector<Candidate>& c, const std::vector<int32_t>& history,
                             const SamplingParams& p) {
  // Candidates are indexed by id before any filtering (c[id].id == id).
  Penalize(history, p, c.size(), [&](int32_t id) -> float& { return c[id].logit; });
}

void Sampler::Softmax(std::vector<Candidate>& c, float temperature) {
  std::sort(c.begin(), c.end(), ByLogit);
  const float max_l = c.front().logit;
  double sum = 0.0;
  for (auto& x : c) {
    x.p = std::exp((x.logit - max_l) / temperature);
    sum += x.p;
  }
  for (auto& x : c) x.p = static_cast<float>(x.p / sum);
}

void Sampler::TopK(std::vector<Candidate>& c, int k) {
  if (k > 0 && static_cast<size_t>(k) < c.size()) c.resize(k);
}

void Sampler::TopP(std::vector<Candidate>& c, float p) {
  if (p >= 1.0f) return;
  double cum = 0.0;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= p) {
      keep = i + 1;
      break;
    }
  }
  c.resize(std::max<size_t>(keep, 1));
}

void Sampler::MinP(std::vector<Candidate>& c, float min_p) {
  if (min_p <= 0.0f || c.empty()) return;
  const float threshold = c.front().p * min_p;
  size_t keep = 1;
  while (keep < c.size() && c[keep].p >= threshold) ++keep;
  c.resize(keep);
}

void Sampler::Filter(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
  dense_ = false;
  // Top-k first on raw logits (cheap partial sort), then the chain over what is left.
  if (params_.top_k > 0 && params_.top_k < n_vocab) {
    cand_.resize(n_vocab);
    for (int i = 0; i < n_vocab; ++i) cand_[i] = {i, logits[i], 0.0f};
    ApplyPenalties(cand_, history, params_);
    std::partial_sort(cand_.begin(), cand_.begin() + params_.top_k, cand_.end(), ByLogit);
    cand_.resize(params_.top_k);
    Softmax(cand_, params_.temperature);
    TopP(cand_, params_.top_p);
    MinP(cand_, params_.min_p);
    return;
  }
  // No top-k: the same chain without sorting the vocabulary. Weights exp((l - max) / T) in one
  // vector pass (id order). Without a cut the draw walks them in id order (dense_). min-p keeps
  // p >= min_p * p_max (a prefix of the sorted order, so filtering first leaves what min-p after
  // top-p leaves); top-p then sorts only as long a prefix of the survivors as it needs.
  logit_.assign(logits, logits + n_vocab);
  Penalize(history, params_, logit_.size(), [&](int32_t id) -> float& { return logit_[id]; });
  weight_.resize(n_vocab);
  kernels::ExpShifted(logit_.data(), n_vocab, MaxOf(logit_.data(), n_vocab),
                      params_.temperature, weight_.data());
  const double sum = SumOf(weight_.data(), weight_.size());
  const bool min_p = params_.min_p > 0.0f, top_p = params_.top_p < 1.0f;
  if (!min_p && !top_p) {
    dense_ = true;
    dense_sum_ = sum;
    return;
  }
  cand_.clear();
  if (min_p) {
    // p = w / sum and p_max = 1 / sum: w below min_p (less a margin for rounding) cannot pass.
    const float threshold = static_cast<float>(1.0 / sum) * params_.min_p;
    const float w_floor = params_.min_p * 0.999f;
    for (int i = 0; i < n_vocab; ++i) {
      if (weight_[i] < w_floor) continue;
      const float p = static_cast<float>(weight_[i] / sum);
      if (p >= threshold) cand_.push_back({i, logit_[i], p});
    }
  } else {
    // Top-p alone: the nucleus is a prefix of the sorted order, so it lies within the first
    // {w >= floor} (also a prefix) whose mass already reaches top_p, with a margin for rounding.
    float floor = 0.0f;
    for (float f : {1e-3f, 1e-6f, 1e-9f}) {
      double mass = 0.0;
      for (float w : weight_) mass += w >= f ? w : 0.0f;
      if (mass >= (params_.top_p + 1e-4) * sum) {
        floor = f;
        break;
      }
    }
    for (int i = 0; i < n_vocab; ++i)
      if (weight_[i] >= floor)
        cand_.push_back({i, logit_[i], static_cast<float>(weight_[i] / sum)});
  }
  if (!top_p) return;
  // The first k of the sorted order: selection then a sort of k (all of it once k is a quarter).
  for (size_t k = std::min<size_t>(cand_.size(), 64);; k = std::min(cand_.size(), k * 8)) {
    if (k * 4 >= cand_.size()) {
      k = cand_.size();
      std::sort(cand_.begin(), cand_.end(), ByLogit);
    } else {
      std::nth_element(cand_.begin(), cand_.begin() + k, cand_.end(), ByLogit);
      std::sort(cand_.begin(), cand_.begin() + k, ByLogit);
    }
    double cum = 0.0;
    for (size_t i = 0; i < k; ++i) {
      cum += cand_[i].p;
      if (cum >= params_.top_p) {
        cand_.resize(i + 1);
        return;
      }
    }
    if (k == cand_.size()) return;  // the whole list is within top-p
  }
}

const std::vector<Candidate>& Sampler::Candidates(const float* logits, int n_vocab,
                                                  const std::vector<int32_t>& history) {
  Filter(logits, n_vocab, history);
  if (dense_) {
    cand_.resize(weight_.size());
    for (size_t i = 0; i < weight_.size(); ++i)
      cand_[i] = {static_cast<int32_t>(i), logit_[i], weight_[i]};
  }
  return cand_;
}

int32_t Sampler::Sample(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
  const SamplingParams& p = params_;
  if (p.temperature <= 0.0f) {
    if (p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f)
      return Argmax(logits, n_vocab);  // the same first maximum, without copying the vocabulary
    logit_.assign(logits, logits + n_vocab);
    Penalize(history, params_, logit_.size(), [&](int32_t id) -> float& { return logit_[id]; });
    return Argmax(logit_.data(), n_vocab);
  }
  Filter(logits, n_vocab, history);
  if (dense_) {
    std::uniform_real_distribution<double> dist(0.0, dense_sum_);
    double r = dist(rng_);
    for (int i = 0; i < n_vocab; ++i) {
      r -= weight_[i];
      if (r <= 0.0) return i;
    }
    for (int i = n_vocab - 1; i > 0; --i)  // rounding left r above 0: the last possible token
      if (weight_[i] > 0.0f) return i;
    return 0;
  }
  double sum = 0.0;
  for (const auto& x : cand_) sum += x.p;
  std::uniform_real_distribution<double> dist(0.0, sum);
  double r = dist(rng_);
  for (const auto& x : cand_) {
    r -= x.p;
    if (r <= 0.0) return x.id;
  }
  return cand_.back().id;
}

}  // namespace semantic::engine

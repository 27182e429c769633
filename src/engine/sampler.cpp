// Sampler chain implementation.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <emmintrin.h>

namespace semantic::engine {

int32_t Argmax(const float* logits, int n_vocab) {
  if (n_vocab <= 0 || std::isnan(logits[0])) return 0;  // nothing compares greater than NaN
  // The maximum four lanes at a time (SSE2, the baseline ISA; NaN never wins: maxps returns its
  // second operand when either is NaN), then its first occurrence: the first maximum, as a scan.
  __m128 m4 = _mm_set1_ps(logits[0]);
  int i = 0;
  for (; i + 4 <= n_vocab; i += 4) m4 = _mm_max_ps(_mm_loadu_ps(logits + i), m4);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, m4);
  float m = lanes[0];
  for (int l = 1; l < 4; ++l) m = lanes[l] > m ? lanes[l] : m;
  for (; i < n_vocab; ++i) m = logits[i] > m ? logits[i] : m;
  for (i = 0; i < n_vocab; ++i)
    if (logits[i] == m) return i;
  return 0;
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params),
      rng_(params.seed == ~0ull ? std::random_device{}() : params.seed) {}

void Sampler::ApplyPenalties(std::vector<Candidate>& c, const std::vector<int32_t>& history,
                             const SamplingParams& p) {
  if (p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f)
    return;
  size_t start = 0;
  if (p.penalty_last_n >= 0 && history.size() > static_cast<size_t>(p.penalty_last_n))
    start = history.size() - p.penalty_last_n;
  std::unordered_map<int32_t, int> counts;
  for (size_t i = start; i < history.size(); ++i) ++counts[history[i]];
  // Candidates are indexed by id before any filtering (c[id].id == id).
  for (const auto& [id, n] : counts) {
    if (id < 0 || static_cast<size_t>(id) >= c.size()) continue;
    float& l = c[id].logit;
    if (p.repeat_penalty != 1.0f) l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
    l -= n * p.frequency_penalty + p.presence_penalty;
  }
}

void Sampler::Softmax(std::vector<Candidate>& c, float temperature) {
  std::sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  });
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
  cand_.resize(n_vocab);
  for (int i = 0; i < n_vocab; ++i) cand_[i] = {i, logits[i], 0.0f};
  ApplyPenalties(cand_, history, params_);
  // Top-k first on raw logits (cheap partial sort), then the chain over what is left.
  if (params_.top_k > 0 && params_.top_k < n_vocab) {
    std::partial_sort(cand_.begin(), cand_.begin() + params_.top_k, cand_.end(),
                      [](const Candidate& a, const Candidate& b) {
                        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
                      });
    cand_.resize(params_.top_k);
    Softmax(cand_, params_.temperature);
    TopP(cand_, params_.top_p);
    MinP(cand_, params_.min_p);
    return;
  }
  // No top-k: the same chain without sorting the vocabulary. Probabilities are computed in id
  // order; min-p keeps those >= min_p * the largest (a prefix of the sorted order, so filtering
  // first gives what min-p after top-p gives); top-p then sorts only as long a prefix of the
  // survivors as it needs. Without either cut the draw walks the vocabulary in id order.
  float max_l = -INFINITY;
  for (const auto& x : cand_) max_l = std::max(max_l, x.logit);
  const float t = params_.temperature;
  double sum = 0.0;
  for (auto& x : cand_) {
    x.p = std::exp((x.logit - max_l) / t);
    sum += x.p;
  }
  const bool min_p = params_.min_p > 0.0f, top_p = params_.top_p < 1.0f;
  if (!min_p && !top_p) return;  // the draw needs weights, not probabilities
  for (auto& x : cand_) x.p = static_cast<float>(x.p / sum);
  if (min_p) {
    const float threshold = static_cast<float>(1.0 / sum) * params_.min_p;  // p of the maximum
    size_t kept = 0;
    for (const auto& x : cand_)
      if (x.p >= threshold) cand_[kept++] = x;
    cand_.resize(kept);
  }
  if (!top_p) return;
  const auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  for (size_t k = std::min<size_t>(cand_.size(), 32);; k = std::min(cand_.size(), k * 8)) {
    std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(), by_logit);
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

int32_t Sampler::Sample(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
  const SamplingParams& p = params_;
  if (p.temperature <= 0.0f) {
    if (p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f)
      return Argmax(logits, n_vocab);  // the same first maximum, without copying the vocabulary
    cand_.resize(n_vocab);
    for (int i = 0; i < n_vocab; ++i) cand_[i] = {i, logits[i], 0.0f};
    ApplyPenalties(cand_, history, params_);
    int32_t best = 0;
    for (int i = 1; i < n_vocab; ++i)
      if (cand_[i].logit > cand_[best].logit) best = i;
    return best;
  }
  Filter(logits, n_vocab, history);
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

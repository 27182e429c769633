// Sampler chain: penalties -> temperature -> top-k -> top-p -> min-p -> draw (seeded), or greedy
// when temperature <= 0. Each stage is a small function over a candidate list.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace semantic::engine {

struct SamplingParams {
  float temperature = 0.8f;   // <= 0: greedy
  int top_k = 40;             // <= 0: off
  float top_p = 0.95f;        // >= 1: off
  float min_p = 0.05f;        // <= 0: off
  float repeat_penalty = 1.0f;     // 1: off; divides positive logits, multiplies negative ones
  float frequency_penalty = 0.0f;  // subtracts count * penalty
  float presence_penalty = 0.0f;   // subtracts penalty once if present
  int penalty_last_n = 64;         // window of recent tokens for penalties (-1: all)
  uint64_t seed = 0;               // 0xFFFFFFFFFFFFFFFF: random
};

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks the next token from logits [n_vocab], given the tokens seen so far (prompt + output)
  // for penalties.
  int32_t Sample(const float* logits, int n_vocab, const std::vector<int32_t>& history);

  // The chain stages, exposed for tests. They operate on `c` in place.
  static void ApplyPenalties(std::vector<Candidate>& c, const std::vector<int32_t>& history,
                             const SamplingParams& p);
  static void Softmax(std::vector<Candidate>& c, float temperature);  // sorts by p descending
  static void TopK(std::vector<Candidate>& c, int k);
  static void TopP(std::vector<Candidate>& c, float p);
  static void MinP(std::vector<Candidate>& c, float min_p);

  // The candidates a temperature > 0 draw chooses from, with weights proportional to their
  // probabilities after the chain (what penalties, Softmax, TopK, TopP and MinP on the sorted
  // vocabulary leave; in no particular order). Without top-k the vocabulary is not sorted.
  const std::vector<Candidate>& Candidates(const float* logits, int n_vocab,
                                           const std::vector<int32_t>& history);

 private:
  void Filter(const float* logits, int n_vocab, const std::vector<int32_t>& history);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cand_;
  // The no-top-k path: penalised logits and exp weights by id; dense_: the draw is over all of
  // them (no cut), weighing dense_sum_ in all.
  std::vector<float> logit_, weight_;
  bool dense_ = false;
  double dense_sum_ = 0.0;
};

// Index of the largest logit (lowest id wins ties).
int32_t Argmax(const float* logits, int n_vocab);

}  // namespace semantic::engine

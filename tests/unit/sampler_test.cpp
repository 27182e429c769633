// Sampler chain: each stage on hand-made candidate lists, seeded determinism, greedy, and the
// unsorted no-top-k path against the chain on the sorted vocabulary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "engine/sampler.h"

namespace semantic::engine {
namespace {

std::vector<Candidate> Make(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0});
  return c;
}

TEST(SamplerTest, GreedyPicksArgmaxAndLowestIdOnTies) {
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(Argmax(l.data(), 4), 1);
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  EXPECT_EQ(s.Sample(l.data(), 4, {}), 1);
}

TEST(SamplerTest, SoftmaxSortsAndNormalizes) {
  auto c = Make({1.0f, 3.0f, 2.0f});
  Sampler::Softmax(c, 1.0f);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_EQ(c[1].id, 2);
  EXPECT_EQ(c[2].id, 0);
  EXPECT_NEAR(c[0].p + c[1].p + c[2].p, 1.0f, 1e-6);
  EXPECT_NEAR(c[0].p / c[1].p, std::exp(1.0f), 1e-4);
}

TEST(SamplerTest, TemperatureSharpens) {
  auto a = Make({1.0f, 2.0f});
  auto b = a;
  Sampler::Softmax(a, 1.0f);
  Sampler::Softmax(b, 0.5f);
  EXPECT_GT(b[0].p, a[0].p);
}

TEST(SamplerTest, TopKTopPMinP) {
  auto c = Make({4.0f, 3.0f, 2.0f, 1.0f, 0.0f});
  Sampler::Softmax(c, 1.0f);  // p ~ .636 .234 .086 .032 .012
  auto k = c;
  Sampler::TopK(k, 2);
  EXPECT_EQ(k.size(), 2u);
  auto tp = c;
  Sampler::TopP(tp, 0.8f);  // .636 < .8 <= .870
  EXPECT_EQ(tp.size(), 2u);
  auto tp1 = c;
  Sampler::TopP(tp1, 0.5f);
  EXPECT_EQ(tp1.size(), 1u);
  auto mp = c;
  Sampler::MinP(mp, 0.1f);  // keep p >= .0636: 3 tokens
  EXPECT_EQ(mp.size(), 3u);
}

TEST(SamplerTest, PenaltiesFollowTheirDefinitions) {
  auto c = Make({2.0f, -2.0f, 1.0f});
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  Sampler::ApplyPenalties(c, {0, 0, 1}, p);
  EXPECT_FLOAT_EQ(c[0].logit, 2.0f / 2.0f - 2 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f * 2.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);  // not in history
}

TEST(SamplerTest, PenaltyWindowOnlyCountsRecentTokens) {
  auto c = Make({1.0f, 1.0f});
  SamplingParams p;
  p.presence_penalty = 1.0f;
  p.penalty_last_n = 1;
  Sampler::ApplyPenalties(c, {0, 1}, p);
  EXPECT_FLOAT_EQ(c[0].logit, 1.0f);
  EXPECT_FLOAT_EQ(c[1].logit, 0.0f);
}

TEST(SamplerTest, SeededSamplingIsDeterministicAndFollowsDistribution) {
  std::vector<float> l = {0.0f, std::log(3.0f)};  // p = .25 / .75
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  Sampler a(p), b(p);
  std::map<int, int> counts;
  for (int i = 0; i < 4000; ++i) {
    int x = a.Sample(l.data(), 2, {});
    EXPECT_EQ(x, b.Sample(l.data(), 2, {}));
    ++counts[x];
  }
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.03);
}

// The vector argmax is the first maximum a plain scan finds (ties to the lowest id, NaN never
// wins, a leading NaN gives 0), for every length and tail.
TEST(SamplerTest, ArgmaxIsTheFirstMaximumOfAScan) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> small(-3, 3);
  for (int n = 1; n <= 67; ++n) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<float> l(n);
      for (float& x : l) x = static_cast<float>(small(rng));  // many ties
      if (trial % 5 == 1) l[rng() % n] = NAN;
      if (trial % 5 == 2) l[0] = NAN;
      if (trial % 5 == 3) std::fill(l.begin(), l.end(), -INFINITY);
      int32_t want = 0;
      for (int i = 1; i < n; ++i)
        if (l[i] > l[want]) want = i;
      ASSERT_EQ(Argmax(l.data(), n), want) << "n " << n << " trial " << trial;
    }
  }
}

// Top-p whose nucleus reaches into a long tail of small weights (each far below the largest,
// together a large share of the mass): the sampler must still keep the sorted chain's prefix.
TEST(SamplerTest, TopPReachesIntoALongTail) {
  std::vector<float> logits(5000, -8.0f);  // weight e^-8 each: 4000 of them ~15 % of the mass
  logits[0] = 0.0f;
  for (int i = 1; i <= 1000; ++i) logits[i * 5 - 1] = -5.0f;
  for (float top_p : {0.8f, 0.95f, 0.99f}) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = top_p;
    p.min_p = 0.0f;
    auto ref = Make(logits);
    Sampler::Softmax(ref, 1.0f);
    Sampler::TopP(ref, top_p);
    Sampler s(p);
    std::vector<Candidate> got = s.Candidates(logits.data(), 5000, {});
    ASSERT_EQ(got.size(), ref.size()) << "top_p " << top_p;
    const auto by_id = [](const Candidate& a, const Candidate& b) { return a.id < b.id; };
    std::sort(got.begin(), got.end(), by_id);
    std::sort(ref.begin(), ref.end(), by_id);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(got[i].id, ref[i].id) << "top_p " << top_p;
  }
}

// Without top-k the sampler never sorts the whole vocabulary; what it draws from must be what the
// chain leaves on the sorted vocabulary (same tokens, same probabilities within float rounding).
TEST(SamplerTest, UnsortedChainKeepsWhatTheSortedChainKeeps) {
  std::mt19937 rng(7);
  const int n_vocab = 5000;
  int cases = 0, cut_cases = 0;
  for (float scale : {0.5f, 2.0f, 6.0f}) {
    for (float temperature : {0.5f, 1.0f, 1.7f}) {
      for (float top_p : {1.0f, 0.95f, 0.5f, 0.05f}) {
        for (float min_p : {0.0f, 0.05f, 0.3f}) {
          std::normal_distribution<float> normal(0.0f, scale);
          std::vector<float> logits(n_vocab);
          for (float& l : logits) l = normal(rng);
          logits[17] = logits[18];  // a tie, broken by id
          SamplingParams p;
          p.temperature = temperature;
          p.top_k = 0;
          p.top_p = top_p;
          p.min_p = min_p;
          p.presence_penalty = 0.5f;
          const std::vector<int32_t> history = {3, 17, 17, 4000};
          auto ref = Make(logits);
          Sampler::ApplyPenalties(ref, history, p);
          Sampler::Softmax(ref, temperature);
          Sampler::TopP(ref, top_p);
          Sampler::MinP(ref, min_p);
          Sampler s(p);
          std::vector<Candidate> got = s.Candidates(logits.data(), n_vocab, history);
          ASSERT_EQ(got.size(), ref.size())
              << "scale " << scale << " T " << temperature << " top_p " << top_p << " min_p "
              << min_p;
          double ref_sum = 0, got_sum = 0;
          for (const auto& x : ref) ref_sum += x.p;
          for (const auto& x : got) got_sum += x.p;
          std::sort(got.begin(), got.end(),
                    [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
          std::sort(ref.begin(), ref.end(),
                    [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
          for (size_t i = 0; i < ref.size(); ++i) {
            ASSERT_EQ(got[i].id, ref[i].id);
            // Relative weights: the no-cut path keeps unnormalised weights.
            const double want = ref[i].p / ref_sum;
            EXPECT_NEAR(got[i].p / got_sum, want, 1e-6 * want + 1e-12);
          }
          ++cases;
          cut_cases += ref.size() < static_cast<size_t>(n_vocab) ? 1 : 0;
        }
      }
    }
  }
  EXPECT_EQ(cases, 108);
  EXPECT_GT(cut_cases, 60);  // the cuts were exercised, not only the full vocabulary
}

}  // namespace
}  // namespace semantic::engine

// Golden tests against llama.cpp on the same GGUF file (fixtures from scripts/make_golden.py):
// teacher-forced top-1 agreement, logit deltas, greedy continuations and batch invariance.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/sampler.h"
#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"
#include "models/model.h"
#include "tests/models/golden_fixture.h"

namespace semantic {
namespace {

using testing::GoldenCase;
using testing::kNearTie;
using testing::SourceDir;

class GoldenTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {
 protected:
  void SetUp() override {
    const std::string model = SourceDir() + "/models/" + GetParam().first;
    const std::string fixture = SourceDir() + "/tests/data/golden/" + GetParam().second;
    if (!std::filesystem::exists(model)) GTEST_SKIP() << "model not present: " << model;
    std::ifstream in(fixture);
    ASSERT_TRUE(in) << fixture;
    nlohmann::json j = nlohmann::json::parse(in);
    reference_ = j["reference"];
    cases_ = testing::ParseGoldenCases(j);
    auto f = loader::GgufFile::Open(model);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    gguf_ = std::move(*f);
    pool_ = std::make_unique<ThreadPool>(2);
    auto m = models::LoadModel(*gguf_, *pool_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
    kv_ = std::make_unique<kv::KvPool>(model_->KvLayoutFor(16), 1024);
  }

  // Greedy continuation of several prompts decoded together in one batch per step.
  std::vector<std::vector<int32_t>> GreedyBatch(const std::vector<const GoldenCase*>& cs,
                                                int n_new) {
    std::vector<kv::SequenceKv> seqs(cs.size());
    std::vector<std::vector<int32_t>> out(cs.size());
    std::vector<models::BatchSeq> batch;
    for (size_t i = 0; i < cs.size(); ++i) {
      EXPECT_TRUE(seqs[i].Reserve(*kv_, static_cast<int>(cs[i]->tokens.size())).ok());
      batch.push_back({cs[i]->tokens.data(), static_cast<int>(cs[i]->tokens.size()), &seqs[i],
                       false});
    }
    models::Logits logits;
    EXPECT_TRUE(model_->Forward(batch, *kv_, &logits).ok());
    std::vector<int32_t> last(cs.size());
    for (int step = 0; step < n_new; ++step) {
      batch.clear();
      for (size_t i = 0; i < cs.size(); ++i) {
        last[i] = engine::Argmax(logits.Row(logits.seq_row[i]), logits.n_vocab);
        out[i].push_back(last[i]);
        EXPECT_TRUE(seqs[i].Reserve(*kv_, 1).ok());
        batch.push_back({&last[i], 1, &seqs[i], false});
      }
      EXPECT_TRUE(model_->Forward(batch, *kv_, &logits).ok());
    }
    for (auto& s : seqs) s.Clear(*kv_);
    return out;
  }

  std::string reference_;
  std::vector<GoldenCase> cases_;
  std::unique_ptr<loader::GgufFile> gguf_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<kv::KvPool> kv_;
};

TEST_P(GoldenTest, TeacherForcedTop1Agreement) {
  int positions = 0, agree = 0, decisive = 0, decisive_agree = 0, in_top2 = 0, self_agree = 0;
  float max_delta = 0.0f;
  for (const GoldenCase& c : cases_) {
    kv::SequenceKv seq;
    ASSERT_TRUE(seq.Reserve(*kv_, static_cast<int>(c.tokens.size())).ok());
    models::Logits logits;
    models::BatchSeq bs{c.tokens.data(), static_cast<int>(c.tokens.size()), &seq, true};
    ASSERT_TRUE(model_->Forward({bs}, *kv_, &logits).ok());
    for (size_t p = 0; p < c.tokens.size(); ++p) {
      const float* row = logits.Row(static_cast<int>(p));
      const auto& ref = c.top5[p];
      const int32_t ours = engine::Argmax(row, logits.n_vocab);
      ++positions;
      agree += ours == ref[0].first;
      in_top2 += ours == ref[0].first || ours == ref[1].first;
      self_agree += c.decode_path_top1[p] == ref[0].first;
      if (ref[0].second - ref[1].second >= kNearTie) {
        ++decisive;
        decisive_agree += ours == ref[0].first;
      }
      for (const auto& [id, v] : ref) max_delta = std::max(max_delta, std::fabs(row[id] - v));
    }
    seq.Clear(*kv_);
  }
  std::printf("[golden] %s vs %s: top-1 agreement %d/%d (%.2f%%; llama.cpp's own decode path: "
              "%d/%d), outside near-ties %d/%d, within reference top-2 %d/%d, max |dlogit| "
              "(top-5) %.4f\n",
              GetParam().first, reference_.c_str(), agree, positions, 100.0 * agree / positions,
              self_agree, positions, decisive_agree, decisive, in_top2, positions, max_delta);
  EXPECT_GE(positions, 256);
  // Every decisive position agrees (>= 99%), and overall we agree with llama.cpp at least as
  // well as llama.cpp's decode path agrees with its own batched path (less one position).
  EXPECT_GE(decisive_agree, 0.99 * decisive);
  EXPECT_GE(agree, self_agree - 1);
  EXPECT_EQ(in_top2, positions);
  EXPECT_LT(max_delta, 1.25f);  // quantized activations amplify float-order differences
}

TEST_P(GoldenTest, GreedyContinuationsMatchUntilANearTie) {
  int identical = 0;
  for (const GoldenCase& c : cases_) {
    auto out = GreedyBatch({&c}, static_cast<int>(c.greedy.size()))[0];
    size_t checked = 0;
    while (checked < c.greedy.size() && c.greedy_gap[checked] >= kNearTie) ++checked;
    // Before the first near-tie step the tokens must be the same; from a near-tie on
    // either choice is a correct greedy decode.
    const size_t must_match = checked;
    EXPECT_EQ(std::vector<int32_t>(out.begin(), out.begin() + std::min(must_match, out.size())),
              std::vector<int32_t>(c.greedy.begin(), c.greedy.begin() + must_match))
        << "first " << must_match << " greedy tokens";
    identical += out == c.greedy;
  }
  std::printf("[golden] greedy continuations identical over all %zu tokens: %d/%zu\n",
              cases_[0].greedy.size(), identical, cases_.size());
}

TEST_P(GoldenTest, CapitalOfFranceMatchesUntilANearTie) {
  // The README's example, 16 greedy tokens. Step 15 of this continuation ("311" vs "321") is a
  // near-tie in llama.cpp itself (top-1/top-2 gap 0.19 logits), so tokens are required to be
  // identical up to the first near-tie and the full-length result is reported.
  const GoldenCase& c = cases_[0];
  auto out = GreedyBatch({&c}, 16)[0];
  size_t checked = 0;
  while (checked < 16 && c.greedy_gap[checked] >= kNearTie) ++checked;
  EXPECT_GE(checked, 14u);
  EXPECT_EQ(std::vector<int32_t>(out.begin(), out.begin() + checked),
            std::vector<int32_t>(c.greedy.begin(), c.greedy.begin() + checked));
  const bool all16 = out == std::vector<int32_t>(c.greedy.begin(), c.greedy.begin() + 16);
  std::printf("[golden] 'The capital of France is': %zu decisive tokens identical; all 16 "
              "identical: %s\n", checked, all16 ? "yes" : "no (near-tie at step 15)");
}

TEST_P(GoldenTest, BatchOfFourMixedLengthsMatchesSolo) {
  ASSERT_GE(cases_.size(), 4u);
  std::vector<const GoldenCase*> four = {&cases_[0], &cases_[1], &cases_[2], &cases_[5]};
  auto batched = GreedyBatch(four, 24);
  for (size_t i = 0; i < four.size(); ++i) {
    auto solo = GreedyBatch({four[i]}, 24);
    EXPECT_EQ(batched[i], solo[0]) << "sequence " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, GoldenTest,
    ::testing::Values(std::make_pair("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-q4_1.json")),
    [](const auto& info) { return std::string("SmolLM2_Q4_1"); });

}  // namespace
}  // namespace semantic

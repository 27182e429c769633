// Golden tests against llama.cpp on the same GGUF file (fixtures from scripts/make_golden.py):
// teacher-forced top-1 agreement, logit deltas, greedy continuations and batch invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

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

// Bounds for a quantized KV cache. Rounding K/V to 8 or 4 bits turns float-order differences
// (ours vs llama.cpp's matmuls) into whole-step flips of single quants: perturbing our own K by a
// relative 1e-4 before quantization moves SmolLM2's logits by up to 1.3 (q8_0) and 5.0 (q4_0) and
// changes 18% of q4_0's top-1 tokens on a 57-token prompt (f16: 1.2 and 4%). So these fixtures
// get measured bounds instead of the f16 rule "as close as llama.cpp's own decode path".
struct KvBounds {
  double min_agree = 0;     // fraction of positions with llama.cpp's top-1
  double min_decisive = 0;  // same, outside near-ties
  double min_top2 = 0;      // fraction within llama.cpp's top-2
  float max_delta = 0;      // max |dlogit| over llama.cpp's top-5
  bool greedy = true;       // greedy continuations must match until a near-tie
};

struct GoldenParam {
  const char* model;
  const char* fixture;
  kernels::KvDtype kv_dtype;  // as llama.cpp's cache type when it made the fixture
  const char* name;
  KvBounds bounds;  // quantized KV only
  // Greedy steps of "The capital of France is" before llama.cpp's first near-tie (at least).
  size_t france_decisive = 14;
  // f16 KV: bound on max |dlogit| over llama.cpp's top-5, set from llama.cpp's own
  // batched-vs-one-at-a-time difference on the same prompts (docs/correctness.md).
  float max_delta = 1.25f;
};

void PrintTo(const GoldenParam& p, std::ostream* os) { *os << p.name; }

class GoldenTest : public ::testing::TestWithParam<GoldenParam> {
 protected:
  void SetUp() override {
    const std::string model = SourceDir() + "/models/" + GetParam().model;
    const std::string fixture = SourceDir() + "/tests/data/golden/" + GetParam().fixture;
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
    auto m = testing::LoadOnTestDevice(*gguf_, *pool_);
    if (!m.ok() && m.status().code() == StatusCode::kUnimplemented && testing::TestOnCuda()) {
      GTEST_SKIP() << m.status().message();
    }
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
    kv_ = std::make_unique<kv::KvPool>(model_->KvLayoutFor(16, GetParam().kv_dtype), 1024);
    if (Status st = model_->CheckKvLayout(kv_->layout()); !st.ok()) GTEST_SKIP() << st.message();
  }

  // Greedy continuation of several prompts decoded together in one batch per step.
  std::vector<std::vector<int32_t>> GreedyBatch(const std::vector<const GoldenCase*>& cs,
                                                int n_new) {
    std::vector<kv::SequenceKv> seqs(cs.size());
    std::vector<std::vector<int32_t>> out(cs.size());
    std::vector<models::BatchSeq> batch;
    for (size_t i = 0; i < cs.size(); ++i) {
      EXPECT_TRUE(seqs[i].Reserve(*kv_, static_cast<int>(cs[i]->tokens.size())).ok());
      batch.push_back(
          {cs[i]->tokens.data(), static_cast<int>(cs[i]->tokens.size()), &seqs[i], false});
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
  int self_in_top2 = 0, outside_top2_decisive = 0;
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
      const bool top2 = ours == ref[0].first || ours == ref[1].first;
      in_top2 += top2;
      outside_top2_decisive += !top2 && ref[0].second - ref[1].second >= kNearTie;
      self_agree += c.decode_path_top1[p] == ref[0].first;
      self_in_top2 +=
          c.decode_path_top1[p] == ref[0].first || c.decode_path_top1[p] == ref[1].first;
      if (ref[0].second - ref[1].second >= kNearTie) {
        ++decisive;
        decisive_agree += ours == ref[0].first;
      }
      for (const auto& [id, v] : ref) max_delta = std::max(max_delta, std::fabs(row[id] - v));
    }
    seq.Clear(*kv_);
  }
  std::printf(
      "[golden] %s vs %s: top-1 agreement %d/%d (%.2f%%; llama.cpp's own decode path: "
      "%d/%d), outside near-ties %d/%d, within reference top-2 %d/%d, max |dlogit| "
      "(top-5) %.4f\n",
      GetParam().name, reference_.c_str(), agree, positions, 100.0 * agree / positions, self_agree,
      positions, decisive_agree, decisive, in_top2, positions, max_delta);
  std::printf("[golden] llama.cpp's own decode path within its batched top-2: %d/%d\n",
              self_in_top2, positions);
  EXPECT_GE(positions, 256);
  if (GetParam().kv_dtype != kernels::KvDtype::kF16) {
    const KvBounds& b = GetParam().bounds;
    EXPECT_GE(agree, b.min_agree * positions);
    EXPECT_GE(decisive_agree, b.min_decisive * decisive);
    EXPECT_GE(in_top2, b.min_top2 * positions);
    EXPECT_LT(max_delta, b.max_delta);
    return;
  }
  // Every decisive position agrees (>= 99%), and overall we agree with llama.cpp at least as
  // well as llama.cpp's decode path agrees with its own batched path (less one position). Our
  // top-1 is within llama.cpp's top-2 at every decisive position and, overall, as often as
  // llama.cpp's own decode path is (less one position): on Gemma 3 that path falls outside its
  // batched top-2 at 3 near-tie positions.
  EXPECT_GE(decisive_agree, 0.99 * decisive);
  EXPECT_GE(agree, self_agree - 1);
  EXPECT_EQ(outside_top2_decisive, 0);
  EXPECT_GE(in_top2, std::min(positions, self_in_top2 - 1));
  // On the GPU (SEMANTIC_TEST_DEVICE=cuda) the float order differs more from llama.cpp's CPU
  // backend (the reference): the attention keeps its softmax weights in f32 where the CPU rounds
  // them to f16, and the matmuls sum in another order. Measured on an H100 and an H200
  // (SmolLM2): 1.36 with 4-warp attention blocks, 1.40 with 8 (the default), top-1 agreement
  // 333-334/341 (llama.cpp's own decode path: 331) and every decisive position agreeing. Bound
  // there: twice llama.cpp's own batched-vs-decode difference (0.79).
  const float bound = testing::TestOnCuda() ? std::max(GetParam().max_delta, 2.0f * 0.79f)
                                            : GetParam().max_delta;
  EXPECT_LT(max_delta, bound);  // quantized activations amplify float order
}

TEST_P(GoldenTest, GreedyContinuationsMatchUntilANearTie) {
  if (!GetParam().bounds.greedy) GTEST_SKIP() << "q4_0 KV: a decode diverges at the first flip";
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
  // The README's example, 16 greedy tokens. For SmolLM2, step 15 of this continuation ("311" vs
  // "321") is a near-tie in llama.cpp itself (top-1/top-2 gap 0.19 logits), so tokens are
  // required to be identical up to the first near-tie and the full-length result is reported.
  const GoldenCase& c = cases_[0];
  auto out = GreedyBatch({&c}, 16)[0];
  size_t checked = 0;
  while (checked < 16 && c.greedy_gap[checked] >= kNearTie) ++checked;
  EXPECT_GE(checked, GetParam().france_decisive);
  EXPECT_EQ(std::vector<int32_t>(out.begin(), out.begin() + checked),
            std::vector<int32_t>(c.greedy.begin(), c.greedy.begin() + checked));
  const bool all16 = out == std::vector<int32_t>(c.greedy.begin(), c.greedy.begin() + 16);
  std::printf(
      "[golden] 'The capital of France is': %zu decisive tokens identical; all 16 "
      "identical: %s\n",
      checked, all16 ? "yes" : "no (after a near-tie)");
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

// Gemma 3 270M (fixture with a 696-token prompt, past the 512-token sliding window): llama.cpp's
// own batched and one-token-at-a-time paths differ by up to 1.67 logits over the top-5 (the
// Fibonacci prompt; its logits reach +-60), so the bound is 2.5 rather than SmolLM2's 1.25; its
// first near-tie in "The capital of France is" is at greedy step 5.
// The quantized-KV fixtures were made with llama.cpp's cache in the same type (flash attention,
// Hadamard-rotated K/V). Measured against them: q8_0 324/341 top-1 (296/297 decisive, 340/341
// in top-2, max |dlogit| 1.40); q4_0 295/341 (271/283, 334/341, 4.68).
INSTANTIATE_TEST_SUITE_P(Models, GoldenTest,
                         ::testing::Values(GoldenParam{"SmolLM2-135M-Instruct.Q4_1.gguf",
                                                       "smollm2-135m-q4_1.json",
                                                       kernels::KvDtype::kF16,
                                                       "SmolLM2_Q4_1",
                                                       {}},
                                           GoldenParam{"SmolLM2-135M-Instruct.Q4_1.gguf",
                                                       "smollm2-135m-q4_1-kv-q8_0.json",
                                                       kernels::KvDtype::kQ8_0,
                                                       "SmolLM2_Q4_1_KV_Q8_0",
                                                       {0.93, 0.99, 0.995, 2.0f, true}},
                                           GoldenParam{"SmolLM2-135M-Instruct.Q4_1.gguf",
                                                       "smollm2-135m-q4_1-kv-q4_0.json",
                                                       kernels::KvDtype::kQ4_0,
                                                       "SmolLM2_Q4_1_KV_Q4_0",
                                                       {0.83, 0.94, 0.97, 7.0f, false}},
                                           GoldenParam{"gemma-3-270m-q4_k_m.gguf",
                                                       "gemma-3-270m-q4_k_m.json",
                                                       kernels::KvDtype::kF16,
                                                       "Gemma3_270M_Q4_K_M",
                                                       {},
                                                       4,
                                                       2.5f}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace semantic

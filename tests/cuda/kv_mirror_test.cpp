// The CUDA model's device mirror of the KV pool (models/cuda/llama_cuda.cpp) on a tiny Llama
// file: K/V written on the GPU reach the host pool (so another model instance, as after a swap,
// continues from them), and a host write to a block (a disk-tier load: KvPool::NoteWrite) makes
// the mirror upload it again instead of attending stale rows. Decode steps replayed as a CUDA
// graph give the logits of direct launches.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"
#include "models/cuda/llama_cuda.h"
#include "models/model.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/models/golden_fixture.h"

namespace semantic::models::cuda {
namespace {

class CudaKvMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_CUDA_DEVICE();
    const std::string path = semantic::testing::SourceDir() + "/models/tiny/tiny-llama-F16.gguf";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "model not present: " << path;
    auto f = loader::GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    gguf_ = std::move(*f);
    a_ = Load();
    ASSERT_NE(a_, nullptr);
    kv_ = std::make_unique<kv::KvPool>(a_->KvLayoutFor(16), 128);
  }

  std::unique_ptr<Model> Load() {
    auto m = LoadModel(*gguf_, threads_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return nullptr;
    auto c = MoveToCuda(std::move(*m));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Feeds tokens [from, to) to `seq` in one step; the last token's logits.
  std::vector<float> Step(Model& m, kv::SequenceKv& seq, const std::vector<int32_t>& tokens,
                          int from, int to) {
    EXPECT_TRUE(seq.Reserve(*kv_, to - from).ok());
    std::vector<BatchSeq> batch = {{tokens.data() + from, to - from, &seq, false}};
    Logits out;
    const Status st = m.Forward(batch, *kv_, &out);
    EXPECT_TRUE(st.ok()) << st.message();
    return std::vector<float>(out.Row(0), out.Row(0) + out.n_vocab);
  }

  std::vector<int32_t> Tokens(int n, int salt) const {
    std::vector<int32_t> t(n);
    const int n_vocab = a_->config().n_vocab;
    for (int i = 0; i < n; ++i) t[i] = 1 + (i * 7919 + salt * 104729) % (n_vocab - 1);
    return t;
  }

  ThreadPool threads_{1};
  std::unique_ptr<loader::GgufFile> gguf_;
  std::unique_ptr<Model> a_;
  std::unique_ptr<kv::KvPool> kv_;
};

TEST_F(CudaKvMirrorTest, AnotherInstanceContinuesFromTheHostPool) {
  const auto tokens = Tokens(40, 1);
  kv::SequenceKv whole;
  const auto want = Step(*a_, whole, tokens, 0, 40);  // one step: the reference
  kv::SequenceKv seq;
  Step(*a_, seq, tokens, 0, 37);
  auto b = Load();  // an empty mirror: it must upload what `a` copied back to the host pool
  ASSERT_NE(b, nullptr);
  const auto got = Step(*b, seq, tokens, 37, 40);
  EXPECT_EQ(got, want);  // a token's arithmetic does not depend on how the steps were cut
  whole.Clear(*kv_);
  seq.Clear(*kv_);
}

TEST_F(CudaKvMirrorTest, HostWriteMakesTheMirrorUploadAgain) {
  const auto ta = Tokens(33, 2), tb = Tokens(33, 3);
  kv::SequenceKv sa, sb;
  Step(*a_, sa, ta, 0, 32);  // two full blocks each
  Step(*a_, sb, tb, 0, 32);
  // Overwrite a's blocks in the host pool with b's K/V, as a disk-tier load would.
  const kv::KvLayout& L = kv_->layout();
  const size_t slab = static_cast<size_t>(L.block_tokens) * L.row_bytes();
  for (int i = 0; i < 2; ++i) {
    for (int l = 0; l < L.n_layers; ++l) {
      std::memcpy(kv_->K(sa.blocks[i], l), kv_->K(sb.blocks[i], l), slab);
      std::memcpy(kv_->V(sa.blocks[i], l), kv_->V(sb.blocks[i], l), slab);
    }
    kv_->NoteWrite(sa.blocks[i]);
  }
  // The same next token on both: a now attends b's rows, so both give b's logits.
  const auto got = Step(*a_, sa, tb, 32, 33);
  const auto want = Step(*a_, sb, tb, 32, 33);
  EXPECT_EQ(got, want);
  sa.Clear(*kv_);
  sb.Clear(*kv_);
}

// Decode steps of two sequences batched, from position 250 across attention split changes (every
// 64 positions) and block boundaries (each re-captures the graph), with and without graphs.
TEST_F(CudaKvMirrorTest, GraphReplayMatchesDirectLaunches) {
  setenv("SEMANTIC_CUDA_GRAPHS", "0", 1);
  auto direct = Load();
  unsetenv("SEMANTIC_CUDA_GRAPHS");
  ASSERT_NE(direct, nullptr);
  const auto t0 = Tokens(290, 4), t1 = Tokens(290, 5);
  kv::SequenceKv g0, g1, d0, d1;  // graph-run and direct-run copies of the two sequences
  for (auto* s : {&g0, &d0}) Step(s == &g0 ? *a_ : *direct, *s, t0, 0, 250);
  for (auto* s : {&g1, &d1}) Step(s == &g1 ? *a_ : *direct, *s, t1, 0, 251);
  int compared = 0;
  for (int i = 0; i < 30; ++i) {
    auto decode = [&](Model& m, kv::SequenceKv& s0, kv::SequenceKv& s1) {
      EXPECT_TRUE(s0.Reserve(*kv_, 1).ok());
      EXPECT_TRUE(s1.Reserve(*kv_, 1).ok());
      std::vector<BatchSeq> batch = {{t0.data() + 250 + i, 1, &s0, false},
                                     {t1.data() + 251 + i, 1, &s1, false}};
      Logits out;
      const Status st = m.Forward(batch, *kv_, &out);
      EXPECT_TRUE(st.ok()) << st.message();
      return out.data;
    };
    const auto g = decode(*a_, g0, g1);
    const auto d = decode(*direct, d0, d1);
    ASSERT_EQ(g.size(), d.size());
    EXPECT_EQ(g, d) << "step " << i;
    ++compared;
  }
  EXPECT_EQ(compared, 30);
  for (auto* s : {&g0, &g1, &d0, &d1}) s->Clear(*kv_);
}

}  // namespace
}  // namespace semantic::models::cuda

// Teacher-forced logits of one sequence through a loaded model file (one thread, a KV pool of
// 16-token blocks): the helper the checkpoint and tokenizer tests compare folders with.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"
#include "models/model.h"

namespace semantic::testing {

// Logits [n_tokens][n_vocab] of `tokens` as one prompt; empty (with a test failure) on error.
inline std::vector<float> TeacherForcedLogits(const loader::GgufFile& f,
                                              const std::vector<int32_t>& tokens) {
  ThreadPool pool(1);
  auto m = models::LoadModel(f, pool);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  (*m)->PackWeights(f);  // as the server loads it
  kv::KvPool kv((*m)->KvLayoutFor(16), 16);
  kv::SequenceKv seq;
  EXPECT_TRUE(seq.Reserve(kv, static_cast<int>(tokens.size())).ok());
  models::Logits out;
  EXPECT_TRUE(
      (*m)->Forward({{tokens.data(), static_cast<int>(tokens.size()), &seq, true}}, kv, &out).ok());
  seq.Clear(kv);
  return out.data;
}

}  // namespace semantic::testing

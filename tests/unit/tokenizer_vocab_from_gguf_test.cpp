// engine::VocabFromGguf on small synthetic GGUF files: every tokenizer.ggml.* key it reads, the
// defaults for absent keys, and clear errors for missing or mistyped ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/vocab_from_gguf.h"
#include "gguf_test_writer.h"
#include "tokenizer/tokenizer.h"

namespace semantic::tokenizer {
namespace {

using testing::Arr;
using testing::Bool;
using testing::F32;
using testing::GgufTestWriter;
using testing::I32;
using testing::Str;
using testing::U32;

std::vector<testing::TestValue> Strs(const std::vector<std::string>& xs) {
  std::vector<testing::TestValue> out;
  for (const auto& x : xs) out.push_back(Str(x));
  return out;
}

Expected<VocabData> ReadVocab(const GgufTestWriter& w, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/tokenizer_vocab_" + name + ".gguf";
  EXPECT_TRUE(testing::WriteBytes(path, w.Build()));
  auto gguf = loader::GgufFile::Open(path);
  if (!gguf.ok()) return gguf.status();
  return engine::VocabFromGguf(**gguf);
}

GgufTestWriter SpmWriter() {
  GgufTestWriter w;
  w.Add("general.architecture", Str("gemma3"));
  w.Add("tokenizer.ggml.model", Str("llama"));
  w.Add("tokenizer.ggml.pre", Str("default"));
  w.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kString, Strs({"<pad>", "<eos>", "<bos>",
                                                                      "\xE2\x96\x81"
                                                                      "a",
                                                                      "a", "<end_of_turn>"})));
  w.Add("tokenizer.ggml.scores",
        Arr(loader::GgufType::kF32, {F32(0), F32(0), F32(0), F32(-1.5f), F32(-2), F32(0)}));
  w.Add("tokenizer.ggml.token_type",
        Arr(loader::GgufType::kI32, {I32(3), I32(3), I32(3), I32(1), I32(1), I32(3)}));
  w.Add("tokenizer.ggml.bos_token_id", U32(2));
  w.Add("tokenizer.ggml.eos_token_id", U32(1));
  w.Add("tokenizer.ggml.padding_token_id", U32(0));
  w.Add("tokenizer.ggml.add_bos_token", Bool(true));
  w.Add("tokenizer.ggml.add_space_prefix", Bool(false));
  return w;
}

TEST(TokenizerVocabFromGgufTest, ReadsEveryKey) {
  auto v = ReadVocab(SpmWriter(), "spm");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->model, "llama");
  EXPECT_EQ(v->pre, "default");
  ASSERT_EQ(v->tokens.size(), 6u);
  EXPECT_EQ(v->tokens[3],
            "\xE2\x96\x81"
            "a");
  EXPECT_EQ(v->scores, (std::vector<float>{0, 0, 0, -1.5f, -2, 0}));
  EXPECT_EQ(v->token_types[0], TokenType::kControl);
  EXPECT_EQ(v->token_types[4], TokenType::kNormal);
  EXPECT_EQ(v->bos_id, 2);
  EXPECT_EQ(v->eos_id, 1);
  EXPECT_EQ(v->pad_id, 0);
  EXPECT_EQ(v->eot_id, -1);  // absent: left for the tokenizer to detect
  EXPECT_EQ(v->add_bos, 1);
  EXPECT_EQ(v->add_eos, -1);
  EXPECT_EQ(v->add_space_prefix, 0);

  auto tok = Tokenizer::Create(std::move(v).value());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->Encode("a a", true, false), (std::vector<int32_t>{2, 4, 3}));
  EXPECT_EQ((*tok)->vocab().eot_id, 5);  // found by its text
  EXPECT_TRUE((*tok)->IsEog(5));
  EXPECT_TRUE((*tok)->IsEog(1));
}

TEST(TokenizerVocabFromGgufTest, BpeNeedsMerges) {
  GgufTestWriter w;
  w.Add("tokenizer.ggml.model", Str("gpt2"));
  w.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kString, Strs({"a", "b"})));
  auto v = ReadVocab(w, "bpe_no_merges");
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  w.Add("tokenizer.ggml.merges", Arr(loader::GgufType::kString, Strs({"a b"})));
  v = ReadVocab(w, "bpe");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->merges, (std::vector<std::string>{"a b"}));
  EXPECT_TRUE(v->scores.empty());
  EXPECT_TRUE(v->token_types.empty());
}

TEST(TokenizerVocabFromGgufTest, MissingOrMistypedKeysAreErrors) {
  GgufTestWriter no_model;
  no_model.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kString, Strs({"a"})));
  EXPECT_EQ(ReadVocab(no_model, "no_model").status().code(), StatusCode::kNotFound);

  GgufTestWriter bad_tokens;
  bad_tokens.Add("tokenizer.ggml.model", Str("llama"));
  bad_tokens.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kI32, {I32(1)}));
  EXPECT_EQ(ReadVocab(bad_tokens, "bad_tokens").status().code(), StatusCode::kInvalidArgument);

  GgufTestWriter short_scores;
  short_scores.Add("tokenizer.ggml.model", Str("llama"));
  short_scores.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kString, Strs({"a", "b"})));
  short_scores.Add("tokenizer.ggml.scores", Arr(loader::GgufType::kF32, {F32(0)}));
  EXPECT_EQ(ReadVocab(short_scores, "short_scores").status().code(), StatusCode::kInvalidArgument);

  GgufTestWriter w;
  w.Add("tokenizer.ggml.model", Str("llama"));
  w.Add("tokenizer.ggml.tokens", Arr(loader::GgufType::kString, Strs({"a"})));
  w.Add("tokenizer.ggml.add_bos_token", Str("yes"));
  EXPECT_EQ(ReadVocab(w, "bad_flag").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace semantic::tokenizer

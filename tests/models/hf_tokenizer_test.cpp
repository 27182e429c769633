// Byte-fallback (SentencePiece-style) BPE tokenizer.json files, as Gemma 3's: the fixtures of
// scripts/make_hf_tokenizer_fixtures.py (a small BPE trained with `tokenizers` in Gemma's, Llama
// 2's and Mistral's (Metaspace) layouts, and the real Gemma 3 vocab converted as transformers'
// GemmaConverter does) encode to
// exactly the ids the `tokenizers` package gives for ~600 strings and decode as its decoder does;
// the real vocab through the tokenizer.json path agrees with the same vocab read from the Gemma 3
// GGUF; a checkpoint whose embedding has more rows than the tokenizer has tokens (Gemma 3: 262208
// for 262144) loads with the rows trimmed; unsupported tokenizer.json kinds are refused clearly.
#include "loader/safetensors/hf_tokenizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "engine/vocab_from_gguf.h"
#include "kv/kv_pool.h"
#include "loader/gguf/gguf_file.h"
#include "loader/safetensors/hf_checkpoint.h"
#include "models/model.h"
#include "tests/models/golden_fixture.h"
#include "tests/models/teacher_forced.h"
#include "tokenizer/tokenizer.h"

namespace semantic {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Fixture(const std::string& name) {
  return testing::SourceDir() + "/models/tiny/hf-tok/" + name;
}

#define SKIP_IF_MISSING(p)                                                             \
  if (!fs::exists(p)) {                                                                \
    GTEST_SKIP() << "not present: " << (p)                                             \
                 << " (.venv/bin/python scripts/make_hf_tokenizer_fixtures.py models " \
                    "models/tiny/hf-tok)";                                             \
  }

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// The tokenizer of a folder's tokenizer.json (+ tokenizer_config.json) alone.
Expected<std::unique_ptr<tokenizer::Tokenizer>> HfTokenizer(const std::string& dir) {
  std::vector<std::pair<std::string, loader::GgufValue>> kv;
  RETURN_IF_ERROR(loader::AddHfTokenizerKeys(dir, json::object(), 0, &kv));
  auto f = loader::GgufFile::FromParts(dir, std::move(kv), {}, nullptr);
  ASSIGN_OR_RETURN(auto vocab, engine::VocabFromGguf(*f));
  return tokenizer::Tokenizer::Create(std::move(vocab));
}

std::unique_ptr<tokenizer::Tokenizer> MustTokenizer(const std::string& dir) {
  auto t = HfTokenizer(dir);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : nullptr;
}

class HfByteFallback : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(HfTokenizer, HfByteFallback,
                         ::testing::Values("gemma-style", "llama2-style", "mistral-style",
                                           "metaspace-always", "gemma3-vocab"));

TEST_P(HfByteFallback, EncodesAndDecodesLikeTheTokenizersPackage) {
  const std::string name = GetParam(), dir = Fixture(name);
  SKIP_IF_MISSING(dir + "/cases.json");
  auto tok = MustTokenizer(dir);
  ASSERT_TRUE(tok);
  const json cases = ReadJson(dir + "/cases.json")["cases"];
  ASSERT_GT(cases.size(), 500u);
  const int32_t bos = tok->FindToken("<bos>");
  EXPECT_EQ(tok->bos_id(), bos);
  EXPECT_EQ(tok->eos_id(), tok->FindToken("<eos>"));
  EXPECT_TRUE(tok->add_bos());
  EXPECT_TRUE(tok->IsEog(tok->FindToken("<end_of_turn>")));
  const bool gemma = name == "gemma-style" || name == "gemma3-vocab";
  EXPECT_EQ(tok->add_space_prefix(), !gemma);
  size_t n_ids = 0, n_byte_tokens = 0, n_mismatch = 0;
  for (const json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got =
        tok->Encode(text, /*add_special=*/false, /*parse_special=*/true);
    if (got != want && ++n_mismatch <= 10) {
      ADD_FAILURE() << name << ": " << json(text).dump() << "\n  ours " << json(got).dump()
                    << "\n  tokenizers " << json(want).dump();
    }
    std::vector<int32_t> with_bos = {bos};
    with_bos.insert(with_bos.end(), want.begin(), want.end());
    EXPECT_EQ(tok->Encode(text, true, true), with_bos) << json(text).dump();
    n_ids += want.size();
    for (int32_t id : want)
      n_byte_tokens +=
          tok->TokenToPiece(id).size() == 1 && tok->vocab().tokens[id].rfind("<0x", 0) == 0;
    // Gemma's decoder (Replace, ByteFallback, Fuse) is exactly ours. The others' Strip removes
    // one leading space of the whole text where we remove the first non-control piece's: the
    // same unless the ids start with a control token. A literal U+2581 in the text comes back as
    // a space (in `tokenizers` too).
    const std::string decoded = tok->Decode(want, /*special=*/true);
    const bool lossless = text.find("\u2581") == std::string::npos;
    if (gemma || want.empty() || !tok->IsControl(want[0])) {
      EXPECT_EQ(decoded, c["decoded"].get<std::string>()) << json(text).dump();
    }
    if (gemma && lossless) {
      EXPECT_EQ(decoded, text) << json(text).dump();
    }
  }
  EXPECT_EQ(n_mismatch, 0u) << name;
  EXPECT_GT(n_ids, 5000u);
  EXPECT_GT(n_byte_tokens, 200u) << "the cases should exercise byte fallback";
}

// The real Gemma 3 vocab: the tokenizer.json path (merge ranks) and the GGUF path (piece scores,
// llama.cpp's algorithm) give the same ids for every case.
TEST(HfTokenizer, Gemma3VocabMatchesTheGgufTokenizer) {
  const std::string dir = Fixture("gemma3-vocab");
  const std::string gguf = testing::SourceDir() + "/models/gemma-3-270m-q4_k_m.gguf";
  SKIP_IF_MISSING(dir + "/cases.json");
  SKIP_IF_MISSING(gguf);
  auto hf = MustTokenizer(dir);
  auto f = loader::OpenModelFile(gguf);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto vocab = engine::VocabFromGguf(**f);
  ASSERT_TRUE(vocab.ok());
  auto ref = tokenizer::Tokenizer::Create(std::move(*vocab));
  ASSERT_TRUE(ref.ok() && hf);
  EXPECT_EQ(hf->n_vocab(), (*ref)->n_vocab());
  EXPECT_EQ(hf->bos_id(), (*ref)->bos_id());
  EXPECT_EQ(hf->eos_id(), (*ref)->eos_id());
  EXPECT_EQ(hf->eog_ids(), (*ref)->eog_ids());
  const json cases = ReadJson(dir + "/cases.json");  // named: the loop must not outlive it
  for (const json& c : cases["cases"]) {
    const std::string text = c["text"].get<std::string>();
    for (bool special : {false, true}) {
      EXPECT_EQ(hf->Encode(text, special, special), (*ref)->Encode(text, special, special))
          << json(text).dump();
    }
  }
}

// tokenizer.json kinds the loader cannot reproduce are refused with the reason.
TEST(HfTokenizer, UnsupportedKindsAreRefused) {
  const std::string src = Fixture("gemma-style");
  SKIP_IF_MISSING(src + "/tokenizer.json");
  const json base = ReadJson(src + "/tokenizer.json");
  const fs::path dir = fs::temp_directory_path() / ("semantic-hftok-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto refused = [&](const char* why, auto edit) {
    json tj = base;
    edit(tj);
    std::ofstream(dir / "tokenizer.json") << tj.dump();
    auto t = HfTokenizer(dir.string());
    ASSERT_FALSE(t.ok()) << why;
    EXPECT_NE(t.status().message().find(why), std::string::npos) << t.status().ToString();
  };
  refused("ignore_merges", [](json& tj) { tj["model"]["ignore_merges"] = true; });
  refused("Metaspace", [](json& tj) {
    tj["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"split", true}};
  });
  refused("NFKC", [](json& tj) { tj["normalizer"] = {{"type", "NFKC"}}; });
  refused("without Replace", [](json& tj) { tj["normalizer"] = nullptr; });
  refused("only byte-level BPE and byte-fallback",
          [](json& tj) { tj["model"]["byte_fallback"] = false; });
  refused("only BPE", [](json& tj) { tj["model"]["type"] = "Unigram"; });
  fs::remove_all(dir);
}

// The chat template comes from tokenizer_config.json, else chat_template.jinja (newer
// transformers), else chat_template.json (multimodal processors such as Gemma 3's).
TEST(HfTokenizer, ChatTemplateFilesAreRead) {
  const std::string src = Fixture("gemma-style");
  SKIP_IF_MISSING(src + "/tokenizer.json");
  const fs::path dir = fs::temp_directory_path() / ("semantic-hftmpl-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::copy_file(src + "/tokenizer.json", dir / "tokenizer.json");
  json tc = ReadJson(src + "/tokenizer_config.json");
  auto tmpl = [&]() -> std::string {
    std::vector<std::pair<std::string, loader::GgufValue>> kv;
    EXPECT_TRUE(loader::AddHfTokenizerKeys(dir.string(), json::object(), 0, &kv).ok());
    auto f = loader::GgufFile::FromParts(dir.string(), std::move(kv), {}, nullptr);
    return f->GetStringOr("tokenizer.chat_template", "");
  };
  std::ofstream(dir / "tokenizer_config.json") << tc.dump();
  EXPECT_EQ(tmpl(), "");
  std::ofstream(dir / "chat_template.json") << json{{"chat_template", "from json"}}.dump();
  EXPECT_EQ(tmpl(), "from json");
  std::ofstream(dir / "chat_template.jinja") << "from jinja";
  EXPECT_EQ(tmpl(), "from jinja");
  tc["chat_template"] = "from config";
  std::ofstream(dir / "tokenizer_config.json") << tc.dump();
  EXPECT_EQ(tmpl(), "from config");
  fs::remove_all(dir);
}

// Teacher-forced logits of a tiny checkpoint folder, and its vocab size.
std::vector<float> Logits(const std::string& dir, const std::vector<int32_t>& tokens,
                          int64_t* n_vocab) {
  auto f = loader::OpenModelFile(dir);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  const loader::GgufTensor* embd = (*f)->FindTensor("token_embd.weight");
  EXPECT_NE(embd, nullptr);
  *n_vocab = embd ? embd->ne[1] : -1;
  auto vocab = engine::VocabFromGguf(**f);
  EXPECT_TRUE(vocab.ok());
  EXPECT_EQ(static_cast<int64_t>(vocab->tokens.size()), *n_vocab) << dir;
  return testing::TeacherForcedLogits(**f, tokens);
}

// Gemma 3 checkpoints' embed_tokens has 64 rows past the tokenizer's vocab; llama.cpp's converter
// (Gemma3Model.modify_tensors) drops them, and so does the loader: the same logits, over the vocab.
TEST(HfTokenizer, EmbeddingRowsPastTheVocabAreTrimmed) {
  const std::string exact = Fixture("tiny-gemma3-hftok-f16"),
                    oov = Fixture("tiny-gemma3-hftok-oov-f16");
  SKIP_IF_MISSING(exact);
  SKIP_IF_MISSING(oov);
  EXPECT_EQ(ReadJson(oov + "/config.json")["vocab_size"].get<int64_t>(),
            ReadJson(exact + "/config.json")["vocab_size"].get<int64_t>() + 64);
  auto tok = MustTokenizer(exact);
  ASSERT_TRUE(tok);
  const std::vector<int32_t> ids =
      tok->Encode("<start_of_turn>user\nHello world, ça va? 🙂<end_of_turn>\n", true, true);
  int64_t n_exact = 0, n_oov = 0;
  const std::vector<float> a = Logits(exact, ids, &n_exact), b = Logits(oov, ids, &n_oov);
  EXPECT_EQ(n_exact, tok->n_vocab());
  EXPECT_EQ(n_oov, n_exact);
  ASSERT_EQ(a.size(), ids.size() * n_exact);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace semantic

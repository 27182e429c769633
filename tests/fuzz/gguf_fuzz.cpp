// Fuzzes the GGUF container parser from raw bytes (header, every metadata type, nested arrays,
// tensor index and data placement), then what the server reads from a parsed file: every value's
// rendering, the tokenizer vocab and a tokenizer built from it, and the chat template.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/vocab_from_gguf.h"
#include "fuzz_util.h"
#include "loader/gguf/gguf_file.h"
#include "server/api/common/chat_render.h"
#include "tokenizer/tokenizer.h"

using namespace semantic;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = loader::GgufFile::FromBytes("fuzz.gguf", data, size);
  if (!parsed.ok()) return 0;
  const loader::GgufFile& f = **parsed;
  for (const auto& [key, value] : f.metadata()) {
    (void)loader::FormatGgufValue(value);
    (void)f.GetInt(key);
    (void)f.GetFloat(key);
    (void)f.GetString(key);
    (void)f.GetStringArray(key);
    (void)f.GetIntArray(key);
    (void)f.GetFloatArray(key);
  }
  for (const loader::GgufTensor& t : f.tensors()) {
    FUZZ_CHECK(t.offset + f.data_offset() + t.nbytes <= f.file_size());
    if (t.nbytes > 0) {  // both ends of the tensor lie inside the copy (ASan checks the reads)
      volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];
      (void)first;
      (void)last;
    }
  }
  auto vocab = engine::VocabFromGguf(f);
  if (!vocab.ok()) return 0;
  auto tok = tokenizer::Tokenizer::Create(std::move(*vocab));
  if (!tok.ok()) return 0;
  const tokenizer::Tokenizer& t = **tok;
  std::vector<int32_t> ids = t.Encode("Hello world! <|im_start|> 123", true, true);
  for (int32_t id : ids) FUZZ_CHECK(id >= 0 && id < t.n_vocab());
  (void)t.Decode(ids, true);
  auto chat = server::ChatRenderer::ForModel(f, t);
  if (chat.ok()) {
    (void)(*chat)->Render(nlohmann::json::array({{{"role", "user"}, {"content", "Hi"}}}), nullptr,
                          true);
  }
  return 0;
}

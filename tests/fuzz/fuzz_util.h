// Shared set-up for the libFuzzer targets: the real SmolLM2 vocab and chat template, loaded once
// from models/ (SEMANTIC_SOURCE_DIR), and a small reader that splits fuzz input into fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/vocab_from_gguf.h"
#include "loader/gguf/gguf_file.h"
#include "server/api/common/chat_render.h"
#include "server/http/json_body.h"
#include "tokenizer/tokenizer.h"

namespace semantic::fuzz {

inline std::string SourceDir() {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  return env ? env : SEMANTIC_SOURCE_DIR;
}

// Aborts (so the run fails loudly, not silently fuzzing nothing) when the model is missing.
template <typename T>
T Must(Expected<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "fuzz set-up: %s: %s\n", what, v.status().ToString().c_str());
    std::abort();
  }
  return std::move(*v);
}

// The default model's tokenizer and chat renderer (models/SmolLM2-135M-Instruct.Q4_1.gguf).
struct SmolLm2 {
  std::unique_ptr<loader::GgufFile> gguf;
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::unique_ptr<server::ChatRenderer> chat;
};

inline const SmolLm2& LoadSmolLm2() {
  static const SmolLm2* m = [] {
    auto* s = new SmolLm2;
    const std::string path = SourceDir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    s->gguf = Must(loader::GgufFile::Open(path), path.c_str());
    s->tok = Must(tokenizer::Tokenizer::Create(Must(engine::VocabFromGguf(*s->gguf), "vocab")),
                  "tokenizer");
    s->chat = Must(server::ChatRenderer::ForModel(*s->gguf, *s->tok), "chat template");
    return s;
  }();
  return *m;
}

// Consumes fuzz input front to back: single bytes for choices, the rest as one blob.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string_view Rest() {
    std::string_view r(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
    pos_ = size_;
    return r;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A property the target checks failed: print it and abort, which libFuzzer reports as a crash.
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// The API targets' start: the flag byte, then the rest as a request body through the server's
// ParseJsonBody with the dialect's error sender. A refused body must be answered with a 4xx.
inline bool ParseBody(Input& in, uint8_t* flags, nlohmann::json* body,
                      server::ErrorSender send_error) {
  *flags = in.Byte();
  httplib::Request req;
  req.body = std::string(in.Rest());
  httplib::Response res;
  if (!server::ParseJsonBody(req, res, body, false, send_error)) {  // the handler's 400
    FUZZ_CHECK(res.status >= 400 && res.status < 500);
    return false;
  }
  return true;
}

}  // namespace semantic::fuzz

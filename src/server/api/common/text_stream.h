// Turns generated token ids into text deltas: holds back partial UTF-8 and any tail that could
// be the start of a stop string, cuts the text at the first stop string (never emitting it).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace semantic::server {

class TextStream {
 public:
  TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stops);

  // Text that is safe to emit after this token. Sets stopped() when a stop string appeared.
  std::string Push(int32_t id);
  // Whatever is held back at the end of generation (not called after a stop).
  std::string Flush();
  bool stopped() const { return stopped_; }
  // The stop string that ended the text ("" while not stopped).
  const std::string& matched() const { return matched_; }

 private:
  tokenizer::StreamingDetokenizer detok_;
  std::vector<std::string> stops_;
  std::string held_;  // decoded text not yet emitted (may be a stop-string prefix)
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace semantic::server

// Streaming detokenizer: appends each token's bytes and releases only whole, well-formed UTF-8
// sequences; ill-formed bytes become U+FFFD, a sequence cut at the end waits for the next token.
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace semantic::tokenizer {

std::string StreamingDetokenizer::Push(int32_t id) {
  pending_ += tok_.TokenToPiece(id, special_);
  const auto* s = reinterpret_cast<const uint8_t*>(pending_.data());
  const size_t n = pending_.size();
  std::string out;
  size_t i = 0;
  while (i < n) {
    const int r = CheckUtf8Sequence(s + i, n - i);
    if (r == 0) break;  // incomplete: keep it until more bytes arrive
    if (r > 0) {
      out.append(pending_, i, r);
      i += r;
    } else {
      AppendUtf8(kReplacementChar, &out);
      i += -r;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamingDetokenizer::Flush() {
  std::string out = SanitizeUtf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace semantic::tokenizer

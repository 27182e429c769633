// Stop-string aware streaming text.
#include "server/api/common/text_stream.h"

#include <algorithm>

namespace semantic::server {

TextStream::TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stops)
    : detok_(tok), stops_(std::move(stops)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

std::string TextStream::Push(int32_t id) {
  if (stopped_) return {};
  held_ += detok_.Push(id);
  // A complete stop string: emit what precedes the earliest one and stop.
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = held_.find(s);
    if (at < cut) {
      cut = at;
      matched_ = s;
    }
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, cut);
    held_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len) {
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string TextStream::Flush() {
  if (stopped_) return {};
  std::string out = held_ + detok_.Flush();
  held_.clear();
  return out;
}

}  // namespace semantic::server

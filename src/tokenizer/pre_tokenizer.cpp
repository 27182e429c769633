// Hand-written pre-tokenizer passes. Each pass re-splits every piece of the previous pass on its
// own and keeps both the matched spans and the text between them, as llama.cpp's regex split does.
#include "tokenizer/pre_tokenizer.h"

#include <string>

#include "tokenizer/unicode.h"

namespace semantic::tokenizer {
namespace {

constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

// One piece of the input under a pass: code points and flags of [begin, end) of the fragment.
class PieceView {
 public:
  PieceView(const std::vector<uint32_t>& cps, const std::vector<CpFlags>& flags, size_t begin,
            size_t end)
      : cps_(cps), flags_(flags), begin_(begin), end_(end) {}
  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  uint32_t Cp(size_t i) const { return i >= begin_ && i < end_ ? cps_[i] : kOutOfRange; }
  // 0 outside the piece, which has no class bit and no whitespace bit.
  CpFlags Flags(size_t i) const { return i >= begin_ && i < end_ ? flags_[i] : 0; }
  bool Letter(size_t i) const { return Flags(i) & kCpLetter; }
  bool Number(size_t i) const { return Flags(i) & kCpNumber; }
  bool Space(size_t i) const { return Flags(i) & kCpWhitespaceFlag; }

 private:
  const std::vector<uint32_t>& cps_;
  const std::vector<CpFlags>& flags_;
  size_t begin_, end_;
};

// Records piece ends; pieces of zero length are dropped.
class PieceSink {
 public:
  PieceSink(size_t begin, std::vector<uint32_t>* out) : prev_end_(begin), out_(out) {}
  void Cut(size_t end) {
    if (end > prev_end_) out_->push_back(static_cast<uint32_t>(end - prev_end_));
    prev_end_ = end;
  }

 private:
  size_t prev_end_;
  std::vector<uint32_t>* out_;
};

bool IsCrLf(uint32_t cp) { return cp == '\r' || cp == '\n'; }
uint32_t AsciiLower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// Length of an English contraction ('s 't 'm 'd 're 've 'll) at `pos`, or 0.
size_t Contraction(const PieceView& v, size_t pos, bool any_case) {
  if (v.Cp(pos) != '\'' || pos + 1 >= v.end()) return 0;
  const uint32_t c1 = any_case ? AsciiLower(v.Cp(pos + 1)) : v.Cp(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= v.end()) return 0;
  const uint32_t c2 = any_case ? AsciiLower(v.Cp(pos + 2)) : v.Cp(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// True for code points that none of \s, \p{L}, \p{N} match (inside the piece).
bool IsOther(CpFlags f) { return f != 0 && !(f & (kCpWhitespaceFlag | kCpLetter | kCpNumber)); }

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void SplitGpt2(const PieceView& v, std::vector<uint32_t>* out) {
  PieceSink sink(v.begin(), out);
  size_t pos = v.begin();
  while (pos < v.end()) {
    const uint32_t cp = v.Cp(pos);
    if (size_t n = Contraction(v, pos, /*any_case=*/false)) {
      pos += n;
      sink.Cut(pos);
      continue;
    }
    // An optional leading space, then a run of one kind.
    const size_t body = cp == ' ' ? pos + 1 : pos;
    const CpFlags f = v.Flags(body);
    if (f & kCpLetter) {
      pos = body;
      while (v.Letter(pos)) ++pos;
      sink.Cut(pos);
      continue;
    }
    if (f & kCpNumber) {
      pos = body;
      while (v.Number(pos)) ++pos;
      sink.Cut(pos);
      continue;
    }
    if (IsOther(f)) {
      pos = body;
      while (IsOther(v.Flags(pos))) ++pos;
      sink.Cut(pos);
      continue;
    }
    size_t n_space = 0;
    while (v.Space(pos + n_space)) ++n_space;
    if (n_space > 1 && v.Cp(pos + n_space) != kOutOfRange) {
      pos += n_space - 1;  // \s+(?!\S): leave the last space to the word that follows
      sink.Cut(pos);
      continue;
    }
    pos += n_space > 0 ? n_space : 1;  // \s+, or a code point nothing matches
    sink.Cut(pos);
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
void SplitLlama3(const PieceView& v, size_t max_digits, std::vector<uint32_t>* out) {
  PieceSink sink(v.begin(), out);
  size_t pos = v.begin();
  while (pos < v.end()) {
    const uint32_t cp = v.Cp(pos);
    const CpFlags f = v.Flags(pos);
    if (size_t n = Contraction(v, pos, /*any_case=*/true)) {
      pos += n;
      sink.Cut(pos);
      continue;
    }
    if (!IsCrLf(cp) && !(f & kCpNumber) && ((f & kCpLetter) || v.Letter(pos + 1))) {
      ++pos;  // the letter itself, or one leading non-letter
      while (v.Letter(pos)) ++pos;
      sink.Cut(pos);
      continue;
    }
    if (f & kCpNumber) {
      size_t start = pos;
      while (v.Number(pos)) {
        ++pos;
        if (pos - start >= max_digits) {
          sink.Cut(pos);
          start = pos;
        }
      }
      sink.Cut(pos);
      continue;
    }
    const size_t body = cp == ' ' ? pos + 1 : pos;
    const CpFlags fb = v.Flags(body);
    if (!(fb & (kCpWhitespaceFlag | kCpLetter | kCpNumber))) {  // f != 0: pos is in the piece
      pos = body;
      while (IsOther(v.Flags(pos))) ++pos;
      while (IsCrLf(v.Cp(pos))) ++pos;
      sink.Cut(pos);
      continue;
    }
    size_t n_space = 0, last_crlf_end = 0;
    while (v.Space(pos + n_space)) {
      if (IsCrLf(v.Cp(pos + n_space))) last_crlf_end = pos + n_space + 1;
      ++n_space;
    }
    if (last_crlf_end > 0) {  // \s*[\r\n]+
      pos = last_crlf_end;
      sink.Cut(pos);
      continue;
    }
    if (n_space > 1 && v.Cp(pos + n_space) != kOutOfRange) {
      pos += n_space - 1;
      sink.Cut(pos);
      continue;
    }
    pos += n_space > 0 ? n_space : 1;
    sink.Cut(pos);
  }
}

// The passes below follow std::regex search semantics: leftmost match, then continue after it.

// X: every matching code point is a piece of its own.
template <typename Pred>
void SplitEach(const PieceView& v, Pred pred, std::vector<uint32_t>* out) {
  PieceSink sink(v.begin(), out);
  for (size_t pos = v.begin(); pos < v.end(); ++pos) {
    if (pred(pos)) {
      sink.Cut(pos);
      sink.Cut(pos + 1);
    }
  }
  sink.Cut(v.end());
}

// X+: maximal runs of matching code points.
template <typename Pred>
void SplitRuns(const PieceView& v, Pred pred, std::vector<uint32_t>* out) {
  PieceSink sink(v.begin(), out);
  size_t pos = v.begin();
  while (pos < v.end()) {
    if (!pred(pos)) {
      ++pos;
      continue;
    }
    sink.Cut(pos);
    while (pos < v.end() && pred(pos)) ++pos;
    sink.Cut(pos);
  }
  sink.Cut(v.end());
}

// \s?X+ (X never matches whitespace).
template <typename Pred>
void SplitSpaceRuns(const PieceView& v, Pred pred, std::vector<uint32_t>* out) {
  PieceSink sink(v.begin(), out);
  size_t pos = v.begin();
  while (pos < v.end()) {
    size_t start = pos;
    if (v.Space(pos) && pos + 1 < v.end() && pred(pos + 1)) {
      ++pos;
    } else if (!pred(pos)) {
      ++pos;
      continue;
    }
    sink.Cut(start);
    while (pos < v.end() && pred(pos)) ++pos;
    sink.Cut(pos);
  }
  sink.Cut(v.end());
}

// [0-9][0-9][0-9]
void SplitDigitTriples(const PieceView& v, std::vector<uint32_t>* out) {
  auto digit = [&](size_t i) { return v.Cp(i) >= '0' && v.Cp(i) <= '9'; };
  PieceSink sink(v.begin(), out);
  size_t pos = v.begin();
  while (pos + 3 <= v.end()) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      sink.Cut(pos);
      pos += 3;
      sink.Cut(pos);
    } else {
      ++pos;
    }
  }
  sink.Cut(v.end());
}

// [一-龥ࠀ-一가-퟿] as std::wregex sees it: non-ASCII whitespace was replaced before
// matching.
bool IsDeepseekCjk(uint32_t cp, CpFlags f) {
  if (f & kCpWhitespaceFlag) return false;
  return (cp >= 0x0800 && cp <= 0x9FA5) || (cp >= 0xAC00 && cp <= 0xD7FF);
}

bool IsDefaultPunct(uint32_t cp, CpFlags f) {
  if (f & kCpPunctuation) return true;
  switch (cp) {
    case '$':
    case '+':
    case '<':
    case '=':
    case '>':
    case '^':
    case '~':
    case '|':
      return true;
    default:
      return false;
  }
}

enum class Pass {
  kGpt2,
  kLlama3,
  kQwen2,
  kEachNumber,
  kNumberRuns,
  kEachCrLf,
  kSpaceLetters,
  kSpacePunct,
  kCjkRuns,
  kDefaultPunctRuns,
  kDigitTriples,
};

void RunPass(Pass pass, const PieceView& v, std::vector<uint32_t>* out) {
  auto number = [&](size_t i) { return v.Number(i); };
  switch (pass) {
    case Pass::kGpt2:
      return SplitGpt2(v, out);
    case Pass::kLlama3:
      return SplitLlama3(v, 3, out);
    case Pass::kQwen2:
      return SplitLlama3(v, 1, out);
    case Pass::kEachNumber:
      return SplitEach(v, number, out);
    case Pass::kNumberRuns:
      return SplitRuns(v, number, out);
    case Pass::kEachCrLf:
      return SplitEach(
          v, [&](size_t i) { return IsCrLf(v.Cp(i)); }, out);
    case Pass::kSpaceLetters:
      return SplitSpaceRuns(
          v, [&](size_t i) { return v.Letter(i); }, out);
    case Pass::kSpacePunct:
      return SplitSpaceRuns(
          v, [&](size_t i) { return (v.Flags(i) & kCpPunctuation) != 0; }, out);
    case Pass::kCjkRuns:
      return SplitRuns(
          v, [&](size_t i) { return IsDeepseekCjk(v.Cp(i), v.Flags(i)); }, out);
    case Pass::kDefaultPunctRuns:
      return SplitRuns(
          v, [&](size_t i) { return IsDefaultPunct(v.Cp(i), v.Flags(i)); }, out);
    case Pass::kDigitTriples:
      return SplitDigitTriples(v, out);
  }
}

std::vector<Pass> PassesFor(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::kGpt2:
      return {Pass::kGpt2};
    case PreTokenizerKind::kSmollm:
      return {Pass::kEachNumber, Pass::kGpt2};
    case PreTokenizerKind::kLlama3:
      return {Pass::kLlama3};
    case PreTokenizerKind::kQwen2:
      return {Pass::kQwen2};
    case PreTokenizerKind::kDeepseekCoder:
      return {Pass::kEachCrLf, Pass::kSpaceLetters, Pass::kSpacePunct, Pass::kCjkRuns,
              Pass::kEachNumber};
    case PreTokenizerKind::kDefault:
      break;
  }
  return {Pass::kDefaultPunctRuns, Pass::kGpt2, Pass::kNumberRuns, Pass::kDigitTriples};
}

}  // namespace

Expected<PreTokenizerConfig> PreTokenizerForName(std::string_view pre) {
  auto one_of = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (pre == n) return true;
    }
    return false;
  };
  PreTokenizerConfig c;
  if (pre.empty() || pre == "default") {
    c.kind = PreTokenizerKind::kDefault;
  } else if (one_of({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                     "midm-2.0", "lfm2"})) {
    c.kind = PreTokenizerKind::kLlama3;
    c.ignore_merges = true;
    c.add_bos = true;
  } else if (one_of({"dbrx", "smaug-bpe"})) {
    c.kind = PreTokenizerKind::kLlama3;
  } else if (one_of({"chatglm-bpe", "glm4"})) {
    c.kind = PreTokenizerKind::kLlama3;
    c.no_bos_id = true;
  } else if (one_of({"qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez", "solar-open",
                     "kormo", "f2llmv2"})) {
    c.kind = PreTokenizerKind::kQwen2;
  } else if (one_of({"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone",
                     "minerva-7b"})) {
    c.kind = PreTokenizerKind::kSmollm;
  } else if (one_of({"gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4", "jina-es", "jina-de",
                     "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "trillion",
                     "granite-docling"})) {
    c.kind = PreTokenizerKind::kGpt2;
  } else if (pre == "deepseek-coder") {
    c.kind = PreTokenizerKind::kDeepseekCoder;
  } else {
    return Unimplemented("unsupported tokenizer.ggml.pre '" + std::string(pre) + "'");
  }
  return c;
}

void PreTokenize(PreTokenizerKind kind, const std::vector<uint32_t>& cps,
                 std::vector<uint32_t>* piece_lengths) {
  if (cps.empty()) return;
  std::vector<CpFlags> flags(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) flags[i] = FlagsOf(cps[i]);

  std::vector<uint32_t> pieces = {static_cast<uint32_t>(cps.size())};
  std::vector<uint32_t> next;
  for (Pass pass : PassesFor(kind)) {
    next.clear();
    size_t begin = 0;
    for (uint32_t len : pieces) {
      RunPass(pass, PieceView(cps, flags, begin, begin + len), &next);
      begin += len;
    }
    pieces.swap(next);
  }
  piece_lengths->insert(piece_lengths->end(), pieces.begin(), pieces.end());
}

}  // namespace semantic::tokenizer

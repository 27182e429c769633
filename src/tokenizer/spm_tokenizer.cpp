// SentencePiece-style BPE as llama.cpp runs it: split into UTF-8 characters, repeatedly merge the
// adjacent pair whose concatenation is the best-scoring vocab piece, byte-fallback the rest.
// With tokenizer.ggml.pre "hf-merges" (HF tokenizer.json BPE with byte_fallback, as Gemma's), pairs
// are ranked by their index in the merges list instead, as Hugging Face `tokenizers` does: only
// listed pairs merge, the lowest rank first, the leftmost of equal ranks first.
// "hf-metaspace-first" / "-always" rank the same way and place the space mark as HF's Metaspace
// pre-tokenizer (split: false) does: before a text segment that does not start with one, only the
// segment at the start of the text / every segment (instead of add_space_prefix's after every
// special token).
#include "tokenizer/spm_tokenizer.h"

#include <array>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab_index.h"

namespace semantic::tokenizer {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::string EscapeSpaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    if (c == ' ') {
      out += kSpaceMark;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UnescapeSpaces(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out.push_back(' ');
      i += kSpaceMark.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(VocabData vocab) : Tokenizer(std::move(vocab)) {}

  Status Init();
  std::vector<int32_t> Encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  std::string TokenToPiece(int32_t id, bool special) const override;

 private:
  struct Symbol {
    uint32_t start, len;
    int32_t prev, next;
  };
  struct Candidate {
    double score;  // SPM: the merged piece's score; "hf-merges": minus the pair's rank
    int32_t left, right;
    uint32_t size;
    // Priority: higher score first, then the leftmost pair.
    bool operator<(const Candidate& o) const {
      return score != o.score ? score < o.score : left > o.left;
    }
  };

  void EncodeFragment(const std::string& text, std::vector<int32_t>* out) const;
  float Score(int32_t id) const { return vocab_.scores.empty() ? 0.0f : vocab_.scores[id]; }

  // Priority of merging the adjacent pieces text[start, mid) and text[mid, end); false: they do
  // not merge.
  bool PairScore(std::string_view text, uint32_t start, uint32_t mid, uint32_t end,
                 double* score) const;

  std::array<int32_t, 256> byte_token_{};  // <0xXX> token of each byte (-1: none)
  std::vector<std::string> pieces_;        // text each token stands for (control: its text)
  bool use_ranks_ = false;                 // "hf-merges", "hf-metaspace-*": rank pairs by merges
  int metaspace_ = 0;                      // 1: "hf-metaspace-first", 2: "hf-metaspace-always"
  std::unordered_map<uint64_t, int32_t> merge_rank_;  // (left id << 32 | right id) -> rank
};

Status SpmTokenizer::Init() {
  RETURN_IF_ERROR(InitCommon(/*is_spm=*/true, false, false));
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
    int32_t id = index_->Find(name);
    if (id < 0) {
      const char raw = static_cast<char>(b);
      id = index_->Find(std::string_view(&raw, 1));
    }
    byte_token_[b] = id >= 0 ? id : vocab_.unk_id;
  }
  const int32_t n = n_vocab();
  pieces_.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const uint32_t attr = index_->Attr(id);
    const std::string& text = vocab_.tokens[id];
    if (attr & (kAttrControl | kAttrUnknown | kAttrUserDefined)) {
      pieces_[id] = text;
    } else if (attr & kAttrNormal) {
      pieces_[id] = UnescapeSpaces(text);
    } else if (attr & kAttrByte) {
      const int b = ParseByteToken(text);
      if (b >= 0) pieces_[id].push_back(static_cast<char>(b));
    }
  }
  metaspace_ = vocab_.pre == "hf-metaspace-first" ? 1 : vocab_.pre == "hf-metaspace-always" ? 2 : 0;
  use_ranks_ = vocab_.pre == "hf-merges" || metaspace_ > 0;
  if (use_ranks_) {
    // "A B": pieces hold no raw spaces (they are U+2581) except user-defined ones such as "  ",
    // which the special-token partition cuts out before merging; a merge whose halves do not
    // split at its only space therefore never applies and is skipped.
    merge_rank_.reserve(vocab_.merges.size());
    for (size_t r = 0; r < vocab_.merges.size(); ++r) {
      const std::string& m = vocab_.merges[r];
      const size_t sp = m.find(' ');
      if (sp == std::string::npos || m.find(' ', sp + 1) != std::string::npos) continue;
      const int32_t l = index_->Find(std::string_view(m).substr(0, sp));
      const int32_t rt = index_->Find(std::string_view(m).substr(sp + 1));
      if (l < 0 || rt < 0 || index_->Find(std::string(m, 0, sp) + m.substr(sp + 1)) < 0) continue;
      // A pair listed twice keeps its last rank, as `tokenizers` builds its merge map.
      merge_rank_[(static_cast<uint64_t>(l) << 32) | static_cast<uint32_t>(rt)] =
          static_cast<int32_t>(r);
    }
  }
  return Status::Ok();
}

bool SpmTokenizer::PairScore(std::string_view text, uint32_t start, uint32_t mid, uint32_t end,
                             double* score) const {
  if (!use_ranks_) {
    const int32_t id = index_->Find(text.substr(start, end - start));
    if (id < 0) return false;
    *score = Score(id);
    return true;
  }
  const int32_t l = index_->Find(text.substr(start, mid - start));
  const int32_t r = index_->Find(text.substr(mid, end - mid));
  if (l < 0 || r < 0) return false;
  auto it = merge_rank_.find((static_cast<uint64_t>(l) << 32) | static_cast<uint32_t>(r));
  if (it == merge_rank_.end()) return false;
  *score = -static_cast<double>(it->second);
  return true;
}

std::vector<int32_t> SpmTokenizer::Encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_) out.push_back(vocab_.bos_id);
  std::vector<TextFragment> fragments;
  index_->Partition(text, parse_special, &fragments);
  bool prev_special = true;  // the first text fragment gets the space prefix too
  std::string piece;
  for (const TextFragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    piece.clear();
    if (metaspace_ > 0) {
      const std::string_view seg = text.substr(f.offset, f.length);
      const bool marked = seg[0] == ' ' || seg.substr(0, kSpaceMark.size()) == kSpaceMark;
      if (!marked && (metaspace_ == 2 || f.offset == 0)) piece.push_back(' ');
    } else if (add_space_prefix_ && prev_special) {
      piece.push_back(' ');
    }
    piece.append(text.substr(f.offset, f.length));
    EncodeFragment(EscapeSpaces(piece), &out);
    prev_special = false;
  }
  if (add_special && add_eos_) out.push_back(vocab_.eos_id);
  return out;
}

void SpmTokenizer::EncodeFragment(const std::string& text, std::vector<int32_t>* out) const {
  const uint32_t n = static_cast<uint32_t>(text.size());
  if (n == 0) return;
  std::vector<Symbol> sym;
  for (uint32_t offs = 0; offs < n;) {
    const uint32_t len = std::min<uint32_t>(
        static_cast<uint32_t>(Utf8LenFromLead(static_cast<uint8_t>(text[offs]))), n - offs);
    const int32_t index = static_cast<int32_t>(sym.size());
    offs += len;
    sym.push_back({offs - len, len, index - 1, offs == n ? -1 : index + 1});
  }
  std::priority_queue<Candidate> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = sym[left].len + sym[right].len;
    double score;
    if (!PairScore(text, sym[left].start, sym[right].start, sym[left].start + size, &score)) return;
    queue.push({score, left, right, size});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[c.left];
    Symbol& r = sym[c.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.size) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    try_add(l.prev, c.left);
    try_add(c.left, l.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    const std::string_view s = std::string_view(text).substr(sym[i].start, sym[i].len);
    const int32_t id = index_->Find(s);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (char c : s) {  // byte fallback
      const int32_t b = byte_token_[static_cast<uint8_t>(c)];
      if (b >= 0) out->push_back(b);
    }
  }
}

std::string SpmTokenizer::TokenToPiece(int32_t id, bool special) const {
  if (id < 0 || id >= n_vocab()) return {};
  if (!special && (index_->Attr(id) & (kAttrControl | kAttrUnknown))) return {};
  return pieces_[id];
}

}  // namespace

Expected<std::unique_ptr<Tokenizer>> CreateSpmTokenizer(VocabData vocab) {
  auto tok = std::make_unique<SpmTokenizer>(std::move(vocab));
  RETURN_IF_ERROR(tok->Init());
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace semantic::tokenizer

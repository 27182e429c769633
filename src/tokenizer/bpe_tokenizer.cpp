// Byte-level BPE: special-token partition, pre-tokenization, GPT-2 byte mapping, then merges with
// a priority queue (lowest rank, then leftmost) over symbols that carry interned ids.
#include "tokenizer/bpe_tokenizer.h"

#include <array>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_index.h"

namespace semantic::tokenizer {
namespace {

// GPT-2's reversible byte -> code point table: printable Latin-1 bytes map to themselves, the
// others (controls, space, 0x7F-0xA0, 0xAD) to U+0100 onwards in byte order.
std::array<uint32_t, 256> ByteToCodepoint() {
  std::array<uint32_t, 256> table{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    table[b] = printable ? b : next++;
  }
  return table;
}

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(VocabData vocab) : Tokenizer(std::move(vocab)) {}

  Status Init();
  std::vector<int32_t> Encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  std::string TokenToPiece(int32_t id, bool special) const override;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // interned id of the merged text
  };
  // Symbol of the merge loop: a run of bytes of the pre-token with the interned id of its text.
  struct Symbol {
    int32_t id;
    uint32_t start, len;
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank, left, right, left_id, right_id, result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  using CandidateQueue =
      std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>>;
  // Per-call scratch space, so that Encode stays const and thread-safe.
  struct Scratch {
    std::vector<Symbol> symbols;
    std::string encoded;
  };

  // Vocab id of `text`, or an id >= n_vocab for strings the vocab lacks (setup only).
  int32_t Intern(const std::string& text);
  void EncodeFragment(std::string_view text, std::vector<int32_t>* out) const;
  void EncodeWord(const std::string& bytes, Scratch* scratch, std::vector<int32_t>* out) const;
  void EmitUnknownSymbol(const std::string& bytes, const Symbol& s,
                         std::vector<int32_t>* out) const;

  PreTokenizerConfig pre_;
  std::array<std::string, 256> byte_text_;  // UTF-8 of each byte's GPT-2 code point
  std::array<int32_t, 256> byte_id_{};      // interned id of byte_text_
  std::unordered_map<uint64_t, Merge> merges_;
  std::unordered_map<std::string, int32_t> extra_ids_;  // interned texts outside the vocab
  std::vector<std::string> pieces_;  // bytes each token stands for (control tokens: their text)
};

Status BpeTokenizer::Init() {
  auto pre = PreTokenizerForName(vocab_.pre);
  if (!pre.ok()) return pre.status();
  pre_ = *pre;
  RETURN_IF_ERROR(InitCommon(/*is_spm=*/false, pre_.add_bos, pre_.no_bos_id));

  const std::array<uint32_t, 256> byte_cp = ByteToCodepoint();
  std::unordered_map<uint32_t, uint8_t> cp_to_byte;
  for (int b = 0; b < 256; ++b) {
    AppendUtf8(byte_cp[b], &byte_text_[b]);
    byte_id_[b] = Intern(byte_text_[b]);
    cp_to_byte[byte_cp[b]] = static_cast<uint8_t>(b);
  }

  merges_.reserve(vocab_.merges.size() * 2);
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    const std::string& m = vocab_.merges[rank];
    const size_t split = m.find(' ', 1);
    if (split == std::string::npos) continue;
    const std::string left = m.substr(0, split), right = m.substr(split + 1);
    const int32_t left_id = Intern(left), right_id = Intern(right);
    const int32_t result = Intern(left + right);
    merges_.emplace(PairKey(left_id, right_id), Merge{static_cast<int32_t>(rank), result});
  }

  const int32_t n = n_vocab();
  pieces_.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const uint32_t attr = index_->Attr(id);
    const std::string& text = vocab_.tokens[id];
    if (attr & (kAttrControl | kAttrUnknown | kAttrUserDefined)) {
      pieces_[id] = text;
    } else if (attr & kAttrNormal) {
      for (uint32_t cp : DecodeUtf8Lenient(text)) {
        auto it = cp_to_byte.find(cp);
        if (it != cp_to_byte.end()) {
          pieces_[id].push_back(static_cast<char>(it->second));
        } else {
          AppendUtf8(cp, &pieces_[id]);  // not a GPT-2 byte character: keep it as text
        }
      }
    } else if (attr & kAttrByte) {
      const int b = ParseByteToken(text);
      if (b >= 0) pieces_[id].push_back(static_cast<char>(b));
    }
  }
  return Status::Ok();
}

int32_t BpeTokenizer::Intern(const std::string& text) {
  const int32_t id = index_->Find(text);
  if (id >= 0) return id;
  auto [it, inserted] =
      extra_ids_.emplace(text, n_vocab() + static_cast<int32_t>(extra_ids_.size()));
  return it->second;
}

std::vector<int32_t> BpeTokenizer::Encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_) out.push_back(vocab_.bos_id);
  std::vector<TextFragment> fragments;
  index_->Partition(text, parse_special, &fragments);
  for (const TextFragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
    } else {
      EncodeFragment(text.substr(f.offset, f.length), &out);
    }
  }
  if (add_special && add_eos_) out.push_back(vocab_.eos_id);
  return out;
}

void BpeTokenizer::EncodeFragment(std::string_view text, std::vector<int32_t>* out) const {
  const std::vector<uint32_t> cps = DecodeUtf8Lenient(text);
  std::vector<uint32_t> lengths;
  PreTokenize(pre_.kind, cps, &lengths);
  Scratch scratch;
  std::string word;
  size_t pos = 0;
  for (uint32_t len : lengths) {
    word.clear();
    for (size_t k = pos; k < pos + len; ++k) AppendUtf8(cps[k], &word);
    pos += len;
    EncodeWord(word, &scratch, out);
  }
}

void BpeTokenizer::EncodeWord(const std::string& bytes, Scratch* scratch,
                              std::vector<int32_t>* out) const {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  const int32_t n = static_cast<int32_t>(bytes.size());
  if (pre_.ignore_merges) {
    scratch->encoded.clear();
    for (int32_t i = 0; i < n; ++i) scratch->encoded += byte_text_[b[i]];
    const int32_t id = index_->Find(scratch->encoded);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  std::vector<Symbol>& sym = scratch->symbols;
  sym.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    sym[i] = {byte_id_[b[i]], static_cast<uint32_t>(i), 1, i - 1, i + 1 < n ? i + 1 : -1};
  }
  CandidateQueue queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    auto it = merges_.find(PairKey(sym[left].id, sym[right].id));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, sym[left].id, sym[right].id, it->second.result});
  };
  for (int32_t i = 1; i < n; ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[c.left];
    Symbol& r = sym[c.right];
    // Stale when either side has been merged into something else since it was queued.
    if (l.len == 0 || r.len == 0 || l.id != c.left_id || r.id != c.right_id) continue;
    l.id = c.result;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    try_add(l.prev, c.left);
    try_add(c.left, l.next);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = sym[i].next) {
    if (sym[i].id < n_vocab()) {
      out->push_back(sym[i].id);
    } else {
      EmitUnknownSymbol(bytes, sym[i], out);
    }
  }
}

// A final symbol whose text is not a token: like llama.cpp, look up each byte of its GPT-2 text
// as a one-byte token and drop the bytes that are not one.
void BpeTokenizer::EmitUnknownSymbol(const std::string& bytes, const Symbol& s,
                                     std::vector<int32_t>* out) const {
  std::string encoded;
  for (uint32_t k = s.start; k < s.start + s.len; ++k) {
    encoded += byte_text_[static_cast<uint8_t>(bytes[k])];
  }
  for (char c : encoded) {
    const int32_t id = index_->Find(std::string_view(&c, 1));
    if (id >= 0) out->push_back(id);
  }
}

std::string BpeTokenizer::TokenToPiece(int32_t id, bool special) const {
  if (id < 0 || id >= n_vocab()) return {};
  if (!special && (index_->Attr(id) & (kAttrControl | kAttrUnknown))) return {};
  return pieces_[id];
}

}  // namespace

Expected<std::unique_ptr<Tokenizer>> CreateBpeTokenizer(VocabData vocab) {
  auto tok = std::make_unique<BpeTokenizer>(std::move(vocab));
  RETURN_IF_ERROR(tok->Init());
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace semantic::tokenizer

// Fuzzes the tokenizer (tokenizer/) with the real SmolLM2 vocabulary: encodes the input text (with
// and without special-token parsing), checks that valid UTF-8 round-trips through Decode (minus
// the bytes the vocabulary has no token for, which llama.cpp drops too) and that the streaming
// detokenizer yields the same text; then reads the input as token ids (any int32, in range or not)
// for Decode and the streaming detokenizer.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

using namespace semantic;

namespace {

// Bytes with no token of their own: GPT-2's byte -> code point table (printable Latin-1 maps to
// itself, every other byte to U+0100 onwards in byte order), looked up in the vocabulary.
std::array<bool, 256> MissingBytes(const tokenizer::Tokenizer& tok) {
  std::array<bool, 256> missing{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    const uint32_t cp = printable ? b : next++;
    std::string text;
    tokenizer::AppendUtf8(cp, &text);
    missing[b] = tok.FindToken(text) < 0;
  }
  return missing;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::LoadSmolLm2();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tokenizer::Tokenizer& tok = *fuzz::LoadSmolLm2().tok;
  const int32_t n_vocab = tok.n_vocab();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<int32_t> plain = tok.Encode(text, /*add_special=*/false, /*parse_special=*/false);
  for (int32_t id : plain) FUZZ_CHECK(id >= 0 && id < n_vocab);
  std::vector<int32_t> special = tok.Encode(text, /*add_special=*/true, /*parse_special=*/true);
  for (int32_t id : special) FUZZ_CHECK(id >= 0 && id < n_vocab);
  if (tokenizer::IsValidUtf8(text)) {
    static const std::array<bool, 256> missing = MissingBytes(tok);
    std::string kept;
    for (unsigned char c : text) {
      if (!missing[c]) kept += static_cast<char>(c);
    }
    FUZZ_CHECK(tok.Decode(plain) == kept);
    tokenizer::StreamingDetokenizer stream(tok);
    std::string joined;
    for (int32_t id : plain) joined += stream.Push(id);
    joined += stream.Flush();
    // Dropped bytes can leave a broken sequence; the stream then emits U+FFFD, never bad UTF-8.
    if (tokenizer::IsValidUtf8(kept)) {
      FUZZ_CHECK(joined == kept);
    } else {
      FUZZ_CHECK(tokenizer::IsValidUtf8(joined));
    }
  }

  // The same bytes as token ids; ids outside the vocabulary must be handled, not trusted.
  std::vector<int32_t> ids(size / sizeof(int32_t));
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * sizeof(int32_t));
  for (int32_t& id : ids) {
    if (id >= 0) id %= n_vocab + 8;  // mostly valid ids, a few just past the end
  }
  (void)tok.Decode(ids, /*special=*/true);
  tokenizer::StreamingDetokenizer stream(tok, /*special=*/true);
  std::string out;
  for (int32_t id : ids) out += stream.Push(id);
  out += stream.Flush();
  FUZZ_CHECK(tokenizer::IsValidUtf8(out));
  return 0;
}

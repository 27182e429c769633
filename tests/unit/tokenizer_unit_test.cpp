// Tokenizer pieces without model files: Unicode classes, UTF-8 handling, each pre-tokenizer on
// hand-checked inputs, BPE/SPM merging and special tokens on tiny vocabs, streaming, and speed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace semantic::tokenizer {
namespace {

// ---- Unicode -------------------------------------------------------------------------------

TEST(TokenizerUnicodeTest, ClassesFollowGeneralCategory) {
  EXPECT_EQ(ClassOf('a'), kCpLetter);
  EXPECT_EQ(ClassOf('Z'), kCpLetter);
  EXPECT_EQ(ClassOf('7'), kCpNumber);
  EXPECT_EQ(ClassOf('!'), kCpPunctuation);
  EXPECT_EQ(ClassOf('_'), kCpPunctuation);
  EXPECT_EQ(ClassOf('$'), kCpSymbol);
  EXPECT_EQ(ClassOf('~'), kCpSymbol);
  EXPECT_EQ(ClassOf(' '), kCpSeparator);
  EXPECT_EQ(ClassOf('\n'), kCpControl);
  EXPECT_EQ(ClassOf(0x00E9), kCpLetter);  // é
  EXPECT_EQ(ClassOf(0x0301), kCpMark);    // combining acute
  EXPECT_EQ(ClassOf(0x4E2D), kCpLetter);  // 中
  EXPECT_EQ(ClassOf(0x0663), kCpNumber);  // Arabic-Indic three
  EXPECT_EQ(ClassOf(0x2460), kCpNumber);  // ①
  EXPECT_EQ(ClassOf(0x3002), kCpPunctuation);
  EXPECT_EQ(ClassOf(0x1F600), kCpSymbol);  // 😀
  EXPECT_EQ(ClassOf(0xE000), kCpControl);  // private use (Co)
  EXPECT_EQ(ClassOf(0x0378), kCpUndefined);
  EXPECT_EQ(ClassOf(0x110000), kCpUndefined);
}

TEST(TokenizerUnicodeTest, WhitespaceIsTheWhiteSpaceProperty) {
  for (uint32_t cp : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u,
                      0x200Au, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(IsWhitespace(cp)) << std::hex << cp;
  }
  for (uint32_t cp : {0x1Cu, 0x1Fu, 0x200Bu, 0xFEFFu, 0x61u, 0x180Eu}) {
    EXPECT_FALSE(IsWhitespace(cp)) << std::hex << cp;
  }
}

TEST(TokenizerUnicodeTest, LenientDecodeReplacesEachBadByte) {
  EXPECT_EQ(DecodeUtf8Lenient("a\xC3\xA9"), (std::vector<uint32_t>{'a', 0xE9}));
  EXPECT_EQ(DecodeUtf8Lenient("\xF0\x9F\x98\x80"), (std::vector<uint32_t>{0x1F600}));
  EXPECT_EQ(DecodeUtf8Lenient("\xFF"), (std::vector<uint32_t>{kReplacementChar}));
  EXPECT_EQ(DecodeUtf8Lenient("\xE2\x82"),
            (std::vector<uint32_t>{kReplacementChar, kReplacementChar}));
  EXPECT_EQ(DecodeUtf8Lenient(std::string("\xC0\x80", 2)), (std::vector<uint32_t>{0}));
  EXPECT_EQ(DecodeUtf8Lenient("\xED\xA0\x80"), (std::vector<uint32_t>{0xD800}));
}

TEST(TokenizerUnicodeTest, StrictCheckFindsIncompleteAndIllFormedSequences) {
  auto check = [](const std::string& s) {
    return CheckUtf8Sequence(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(check("a"), 1);
  EXPECT_EQ(check("\xC3\xA9"), 2);
  EXPECT_EQ(check("\xF0\x9F\x98\x80"), 4);
  EXPECT_EQ(check("\xF0\x9F\x98"), 0);  // cut: wait for more
  EXPECT_EQ(check("\xE2"), 0);
  EXPECT_EQ(check("\xC0\x80"), -1);      // overlong
  EXPECT_EQ(check("\xED\xA0\x80"), -1);  // surrogate
  EXPECT_EQ(check("\xF4\x90\x80\x80"), -1);
  EXPECT_EQ(check("\xE2\x28\xA1"), -1);
  EXPECT_EQ(check("\xF0\x9F\x28"), -2);
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b\xE2\x82"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xC3"));
}

// ---- Pre-tokenizers ------------------------------------------------------------------------

std::vector<std::string> Split(PreTokenizerKind kind, const std::string& text) {
  const std::vector<uint32_t> cps = DecodeUtf8Lenient(text);
  std::vector<uint32_t> lengths;
  PreTokenize(kind, cps, &lengths);
  std::vector<std::string> pieces;
  size_t pos = 0;
  for (uint32_t len : lengths) {
    std::string piece;
    for (size_t k = pos; k < pos + len; ++k) AppendUtf8(cps[k], &piece);
    pieces.push_back(piece);
    pos += len;
  }
  EXPECT_EQ(pos, cps.size());
  return pieces;
}

using Pieces = std::vector<std::string>;

TEST(TokenizerPreTokenizerTest, Gpt2) {
  EXPECT_EQ(Split(PreTokenizerKind::kGpt2, "Hello world's  test 123!! \n"),
            (Pieces{"Hello", " world", "'s", " ", " test", " 123", "!!", " \n"}));
  EXPECT_EQ(Split(PreTokenizerKind::kGpt2, "I'LL x"), (Pieces{"I", "'", "LL", " x"}));
  EXPECT_EQ(Split(PreTokenizerKind::kGpt2, "a   b"), (Pieces{"a", "  ", " b"}));
}

TEST(TokenizerPreTokenizerTest, SmollmSplitsEveryDigitFirst) {
  EXPECT_EQ(Split(PreTokenizerKind::kSmollm, "abc 123"), (Pieces{"abc", " ", "1", "2", "3"}));
  EXPECT_EQ(Split(PreTokenizerKind::kSmollm, "x1.5"), (Pieces{"x", "1", ".", "5"}));
}

TEST(TokenizerPreTokenizerTest, Llama3) {
  EXPECT_EQ(Split(PreTokenizerKind::kLlama3, "I'LL pay 1234567!!\n\nok"),
            (Pieces{"I", "'LL", " pay", " ", "123", "456", "7", "!!\n\n", "ok"}));
  EXPECT_EQ(Split(PreTokenizerKind::kLlama3, "a \n\n  b"), (Pieces{"a", " \n\n", " ", " b"}));
  EXPECT_EQ(Split(PreTokenizerKind::kLlama3, "\tx(y)"), (Pieces{"\tx", "(y", ")"}));
}

TEST(TokenizerPreTokenizerTest, Qwen2SplitsSingleDigits) {
  EXPECT_EQ(Split(PreTokenizerKind::kQwen2, "abc 12"), (Pieces{"abc", " ", "1", "2"}));
}

TEST(TokenizerPreTokenizerTest, DeepseekCoder) {
  EXPECT_EQ(Split(PreTokenizerKind::kDeepseekCoder, "Hello, \u4e16\u754c 42\n"),
            (Pieces{"Hello", ",", " ", "\u4e16\u754c", " ", "4", "2", "\n"}));
}

TEST(TokenizerPreTokenizerTest, Default) {
  EXPECT_EQ(Split(PreTokenizerKind::kDefault, "a+=1234"), (Pieces{"a", "+=", "123", "4"}));
}

TEST(TokenizerPreTokenizerTest, KnownAndUnknownNames) {
  auto llama = PreTokenizerForName("llama-bpe");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(llama->kind, PreTokenizerKind::kLlama3);
  EXPECT_TRUE(llama->ignore_merges);
  EXPECT_TRUE(llama->add_bos);
  EXPECT_EQ(PreTokenizerForName("smollm")->kind, PreTokenizerKind::kSmollm);
  EXPECT_EQ(PreTokenizerForName("qwen2")->kind, PreTokenizerKind::kQwen2);
  EXPECT_EQ(PreTokenizerForName("")->kind, PreTokenizerKind::kDefault);
  EXPECT_EQ(PreTokenizerForName("no-such-pre").status().code(), StatusCode::kUnimplemented);
}

// ---- Tiny vocabs ---------------------------------------------------------------------------

// The GPT-2 printable form of a byte (what byte-level vocabs store).
std::string ByteChar(uint8_t b) {
  uint32_t n = 256;
  for (uint32_t c = 0; c < 256; ++c) {
    const bool printable = (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
    const uint32_t cp = printable ? c : n++;
    if (c == b) {
      std::string s;
      AppendUtf8(cp, &s);
      return s;
    }
  }
  return {};
}

// 256 byte tokens (ids 0..255), then `extra` tokens, with `merges`.
VocabData BpeVocab(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                   const std::string& pre = "gpt-2") {
  VocabData v;
  v.model = "gpt2";
  v.pre = pre;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(ByteChar(static_cast<uint8_t>(b)));
  for (const auto& t : extra) v.tokens.push_back(t);
  v.merges = merges;
  v.token_types.assign(v.tokens.size(), TokenType::kNormal);
  return v;
}

std::unique_ptr<Tokenizer> MustCreate(VocabData v) {
  auto tok = Tokenizer::Create(std::move(v));
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(TokenizerBpeTest, LowestRankMergesFirstThenLeftmost) {
  // ids: 256 "bc", 257 "ab", 258 "abc", 259 "aa"
  auto tok = MustCreate(BpeVocab({"bc", "ab", "abc", "aa"}, {"b c", "a b", "a a", "a bc"}));
  ASSERT_TRUE(tok);
  // "b c" (rank 0) before "a b" (rank 1), then "a bc": merging "a b" first would leave "ab" "c".
  EXPECT_EQ(tok->Encode("abc", false, false), (std::vector<int32_t>{258}));
  EXPECT_EQ(tok->Encode("abd", false, false), (std::vector<int32_t>{257, 'd'}));
  EXPECT_EQ(tok->Encode("aaa", false, false), (std::vector<int32_t>{259, 'a'}));  // leftmost
  EXPECT_EQ(tok->Decode(tok->Encode("abc abd", false, false)), "abc abd");
}

TEST(TokenizerBpeTest, LongWordsMergeInLogLinearTime) {
  // Merges that build "a" * 2^k: a quadratic merge loop would take minutes on 200000 letters.
  std::vector<std::string> extra, merges;
  std::string run = "a";
  for (int k = 1; k <= 12; ++k) {
    merges.push_back(run + " " + run);
    run += run;
    extra.push_back(run);
  }
  auto tok = MustCreate(BpeVocab(extra, merges));
  ASSERT_TRUE(tok);
  const std::string text(200000, 'a');
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok->Encode(text, false, false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ids.size(), 48u + 4u);  // 200000 = 48 x 4096 + 2048 + 1024 + 256 + 64
  EXPECT_EQ(tok->Decode(ids), text);
  EXPECT_LT(seconds, 2.0);
}

TEST(TokenizerBpeTest, SpecialTokensLongestFirstAndControlOnlyWhenParsing) {
  VocabData v = BpeVocab({"<|im_end|>", "<u>", "xy", "yzw"}, {});
  v.token_types[256] = TokenType::kControl;
  v.token_types[257] = TokenType::kUserDefined;
  v.token_types[258] = TokenType::kUserDefined;
  v.token_types[259] = TokenType::kUserDefined;
  auto tok = MustCreate(std::move(v));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("a<|im_end|>", false, true), (std::vector<int32_t>{'a', 256}));
  const std::vector<int32_t> plain = tok->Encode("a<|im_end|>", false, false);
  EXPECT_EQ(plain.size(), 1u + 10u);  // no merges: one token per byte
  EXPECT_EQ(tok->Encode("<u>", false, false), (std::vector<int32_t>{257}));  // user-defined
  // llama.cpp cuts the longer token first even when a shorter one starts earlier.
  EXPECT_EQ(tok->Encode("xyzw", false, false), (std::vector<int32_t>{'x', 259}));
  EXPECT_TRUE(tok->IsEog(256));  // "<|im_end|>" ends generation, found by its text
  EXPECT_EQ(tok->TokenToPiece(256), "");
  EXPECT_EQ(tok->TokenToPiece(256, true), "<|im_end|>");
  EXPECT_EQ(tok->TokenToPiece(257), "<u>");
  EXPECT_EQ(tok->FindToken("<u>"), 257);
  EXPECT_EQ(tok->FindToken("nope"), -1);
}

TEST(TokenizerBpeTest, AddBosFollowsPreTypeUnlessTheVocabSays) {
  VocabData v = BpeVocab({"<s>"}, {}, "llama-bpe");
  v.bos_id = 256;
  auto llama = MustCreate(v);
  ASSERT_TRUE(llama);
  EXPECT_TRUE(llama->add_bos());
  EXPECT_EQ(llama->Encode("a", true, false), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(llama->Encode("a", false, false), (std::vector<int32_t>{'a'}));
  v.add_bos = 0;
  EXPECT_FALSE(MustCreate(v)->add_bos());
  v.pre = "smollm";
  v.add_bos = -1;
  EXPECT_FALSE(MustCreate(v)->add_bos());
}

TEST(TokenizerBpeTest, BadVocabsAreReported) {
  VocabData unknown_model = BpeVocab({}, {});
  unknown_model.model = "bert";
  EXPECT_EQ(Tokenizer::Create(unknown_model).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(Tokenizer::Create(BpeVocab({}, {}, "mystery")).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(Tokenizer::Create(BpeVocab({"a"}, {})).status().code(),
            StatusCode::kInvalidArgument);  // "a" twice
  VocabData spm;
  spm.model = "llama";
  spm.tokens = {"<unk>"};  // SPM adds BOS by default, but there is no id 1
  EXPECT_EQ(Tokenizer::Create(spm).status().code(), StatusCode::kInvalidArgument);
}

// SPM vocab: <unk> <s> </s>, 256 byte tokens (3..258), then pieces with scores.
VocabData SpmVocab(int add_space_prefix) {
  VocabData v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.token_types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  v.scores = {0, 0, 0};
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    v.token_types.push_back(TokenType::kByte);
    v.scores.push_back(0);
  }
  const std::vector<std::pair<std::string, float>> pieces = {
      {"\u2581", -1}, {"h", -2},   {"e", -2},     {"l", -2},           {"o", -2},      {"he", -3},
      {"ll", -1},     {"llo", -4}, {"hello", -5}, {"\u2581hello", -6}, {"\u2581w", -7}};
  for (const auto& [text, score] : pieces) {
    v.tokens.push_back(text);
    v.token_types.push_back(TokenType::kNormal);
    v.scores.push_back(score);
  }
  v.add_space_prefix = add_space_prefix;
  return v;
}

TEST(TokenizerSpmTest, MergesByScoreWithByteFallbackAndBos) {
  auto tok = MustCreate(SpmVocab(1));
  ASSERT_TRUE(tok);
  const int32_t hello_sp = tok->FindToken("\u2581hello");
  ASSERT_GT(hello_sp, 0);
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(tok->Encode("hello", true, false), (std::vector<int32_t>{1, hello_sp}));
  // "é" is not a piece: its two UTF-8 bytes become <0xC3> <0xA9>.
  const std::vector<int32_t> ids = tok->Encode("h\xC3\xA9", false, false);
  EXPECT_EQ(ids, (std::vector<int32_t>{tok->FindToken("\u2581"), tok->FindToken("h"), 3 + 0xC3,
                                       3 + 0xA9}));
  EXPECT_EQ(tok->Decode(ids), "h\xC3\xA9");  // the space prefix is dropped again
  EXPECT_EQ(tok->Decode(tok->Encode("hello world", false, false)), "hello world");
}

TEST(TokenizerSpmTest, NoSpacePrefixWhenTheVocabSaysSo) {
  auto tok = MustCreate(SpmVocab(0));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("hello", false, false), (std::vector<int32_t>{tok->FindToken("hello")}));
  EXPECT_EQ(tok->Encode("", true, false), (std::vector<int32_t>{1}));
}

// ---- Streaming -----------------------------------------------------------------------------

TEST(TokenizerStreamingTest, HoldsBackSplitCharactersAndReplacesBadBytes) {
  auto tok = MustCreate(SpmVocab(0));
  ASSERT_TRUE(tok);
  auto byte = [](uint8_t b) { return 3 + b; };
  StreamingDetokenizer s(*tok);
  EXPECT_EQ(s.Push(byte(0xF0)), "");
  EXPECT_EQ(s.Push(byte(0x9F)), "");
  EXPECT_EQ(s.Push(byte(0x98)), "");
  EXPECT_EQ(s.Push(byte(0x80)), "\xF0\x9F\x98\x80");
  EXPECT_EQ(s.Push(tok->FindToken("hello")), "hello");
  EXPECT_EQ(s.Push(byte(0xFF)), "\xEF\xBF\xBD");  // never valid
  EXPECT_EQ(s.Push(byte(0xE2)), "");
  EXPECT_EQ(s.Push(byte('a')),
            "\xEF\xBF\xBD"
            "a");  // broken sequence
  EXPECT_EQ(s.Push(byte(0xC3)), "");
  EXPECT_EQ(s.Push(1), "");              // control: no text
  EXPECT_EQ(s.Flush(), "\xEF\xBF\xBD");  // cut at the end
  EXPECT_EQ(s.Flush(), "");
}

TEST(TokenizerStreamingTest, SpecialTokensRenderWhenAsked) {
  auto tok = MustCreate(SpmVocab(0));
  ASSERT_TRUE(tok);
  StreamingDetokenizer s(*tok, /*special=*/true);
  EXPECT_EQ(s.Push(2), "</s>");
}

// ---- Threads -------------------------------------------------------------------------------

TEST(TokenizerThreadTest, ConcurrentEncodeGivesTheSameIds) {
  auto tok = MustCreate(BpeVocab({"bc", "ab", "abc"}, {"b c", "a b", "a bc"}, "llama-bpe"));
  ASSERT_TRUE(tok);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "abc abd 123 \u4e2d\u6587 <x> ";
  const std::vector<int32_t> expected = tok->Encode(text, true, true);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r) ok[t] += tok->Encode(text, true, true) == expected;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 5);
}

}  // namespace
}  // namespace semantic::tokenizer

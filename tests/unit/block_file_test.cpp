// KV block files: encode/decode round trip, and rejection of every kind of damaged or foreign
// file image without touching the destination pool block.
#include "kv/block_file.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "kv/block_key.h"
#include "kv/kv_pool.h"
#include "kv_test_util.h"

namespace semantic::kv {
namespace {

using namespace testing_util;

class BlockFileTest : public ::testing::Test {
 protected:
  BlockFileTest() : id_(SmallIdentity()), pool_(id_.layout, 4) {
    for (int i = 0; i < 4; ++i) tokens_.push_back(1000 + 7 * i);
    parent_ = RootKey(id_.model_fingerprint, "");
    key_ = BlockKey(parent_, tokens_.data(), 4);
    src_ = *pool_.Allocate();
    dst_ = *pool_.Allocate();
    FillPattern(pool_, src_, key_);
    image_ = EncodeBlock(id_, pool_, src_, key_, parent_, tokens_.data());
  }

  // Decodes `img` into dst_ (pre-filled with the sentinel) as the block (key_, parent_, tokens_).
  Status DecodeIntoSentinel(const std::vector<uint8_t>& img, size_t size) {
    FillSentinel(pool_, dst_);
    return DecodeBlock(id_, img.data(), size, key_, parent_, tokens_.data(), pool_, dst_);
  }

  // Rewrites the header of `img` with `edit` applied and its header checksum recomputed, so only
  // the edited field is wrong.
  template <typename Edit>
  std::vector<uint8_t> ForgeHeader(Edit edit, bool fix_payload_hash = false) const {
    std::vector<uint8_t> img = image_;
    BlockFileHeader h;
    std::memcpy(&h, img.data(), sizeof(h));
    edit(h, img);
    if (fix_payload_hash && img.size() >= sizeof(h)) {
      h.payload_xxh3 = XXH3_64bits(img.data() + sizeof(h), img.size() - sizeof(h));
    }
    h.header_xxh3 = XXH3_64bits(&h, offsetof(BlockFileHeader, header_xxh3));
    std::memcpy(img.data(), &h, sizeof(h));
    return img;
  }

  BlockFileIdentity id_;
  KvPool pool_;
  std::vector<int32_t> tokens_;
  uint64_t parent_ = 0, key_ = 0;
  int32_t src_ = -1, dst_ = -1;
  std::vector<uint8_t> image_;
};

// A block loaded from a file is new content for copies of the pool (KvPool::Generation).
TEST_F(BlockFileTest, DecodeRaisesTheBlockGeneration) {
  const uint32_t before = pool_.Generation(dst_);
  ASSERT_TRUE(DecodeIntoSentinel(image_, image_.size()).ok());
  EXPECT_NE(pool_.Generation(dst_), before);
}

TEST_F(BlockFileTest, HeaderLayoutIsFixed) {
  // 8 magic + 2 x u32 + 3 x u64 + 6 x u32 + 4 x u64, packed.
  EXPECT_EQ(sizeof(BlockFileHeader), 96u);
  EXPECT_EQ(offsetof(BlockFileHeader, header_xxh3), 88u);
  // 96 header + 4 tokens * 4 bytes + 2 layers * {K,V} * 4 tokens * 8 dims * 2 bytes.
  EXPECT_EQ(BlockFileBytes(id_), 96u + 16u + 256u);
}

TEST_F(BlockFileTest, RoundTrip) {
  ASSERT_EQ(image_.size(), BlockFileBytes(id_));
  EXPECT_EQ(std::memcmp(image_.data(), kBlockMagic, 8), 0);
  BlockFileHeader h;
  std::memcpy(&h, image_.data(), sizeof(h));
  EXPECT_EQ(h.version, kBlockFormatVersion);
  EXPECT_EQ(h.header_bytes, sizeof(BlockFileHeader));
  EXPECT_EQ(h.model_fingerprint, id_.model_fingerprint);
  EXPECT_EQ(h.key, key_);
  EXPECT_EQ(h.parent_key, parent_);
  EXPECT_EQ(h.block_tokens, 4u);
  EXPECT_EQ(h.n_layers, 2u);
  EXPECT_EQ(h.n_kv_heads, 1u);
  EXPECT_EQ(h.head_dim, 8u);
  EXPECT_EQ(h.row_bytes, 16u);
  EXPECT_EQ(h.payload_bytes, image_.size() - sizeof(h));
  EXPECT_GT(h.created_unix_ms, 0u);
  EXPECT_TRUE(CheckBlockHeader(id_, h, image_.size()).ok());

  // The token ids follow the header verbatim.
  std::vector<int32_t> stored(4);
  std::memcpy(stored.data(), image_.data() + sizeof(h), 16);
  EXPECT_EQ(stored, tokens_);

  Status st = DecodeIntoSentinel(image_, image_.size());
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(HasPattern(pool_, dst_, key_));
  // The source block is not modified by encoding.
  EXPECT_TRUE(HasPattern(pool_, src_, key_));

  // Without expected tokens the key/parent check still applies and decoding succeeds.
  FillSentinel(pool_, dst_);
  st = DecodeBlock(id_, image_.data(), image_.size(), key_, parent_, nullptr, pool_, dst_);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(HasPattern(pool_, dst_, key_));
}

TEST_F(BlockFileTest, RoundTripOfEveryBlockOfAChain) {
  Chain chain(RootKey(id_.model_fingerprint, "salt"), 6, 4, 17);
  KvPool pool(id_.layout, 2);
  const int32_t a = *pool.Allocate(), b = *pool.Allocate();
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    FillPattern(pool, a, chain.keys[i]);
    auto img = EncodeBlock(id_, pool, a, chain.keys[i], chain.parent(i), chain.block_tokens_of(i));
    FillSentinel(pool, b);
    Status st = DecodeBlock(id_, img.data(), img.size(), chain.keys[i], chain.parent(i),
                            chain.block_tokens_of(i), pool, b);
    ASSERT_TRUE(st.ok()) << i << ": " << st.message();
    EXPECT_TRUE(HasPattern(pool, b, chain.keys[i])) << i;
  }
}

TEST_F(BlockFileTest, EverySingleByteChangeInTheHeaderIsRejected) {
  int checked = 0;
  for (size_t pos = 0; pos < sizeof(BlockFileHeader); ++pos) {
    // Every single-bit flip and the all-bits flip of this byte.
    for (int mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}) {
      std::vector<uint8_t> img = image_;
      img[pos] ^= static_cast<uint8_t>(mask);
      Status st = DecodeIntoSentinel(img, img.size());
      ASSERT_FALSE(st.ok()) << "header byte " << pos << " ^ " << mask << " was accepted";
      ASSERT_TRUE(HasSentinel(pool_, dst_)) << "header byte " << pos << " touched the pool";
      // The header-only check used by the start-up scan rejects it as well.
      BlockFileHeader h;
      std::memcpy(&h, img.data(), sizeof(h));
      ASSERT_FALSE(CheckBlockHeader(id_, h, img.size()).ok()) << "byte " << pos;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(sizeof(BlockFileHeader)) * 9);
}

TEST_F(BlockFileTest, PayloadByteFlipsAreRejected) {
  std::mt19937_64 rng(20240607);
  const size_t hdr = sizeof(BlockFileHeader);
  std::vector<size_t> positions = {hdr, hdr + 15, hdr + 16, image_.size() - 1};  // edges
  std::uniform_int_distribution<size_t> pos_dist(hdr, image_.size() - 1);
  while (positions.size() < 300) positions.push_back(pos_dist(rng));
  std::uniform_int_distribution<int> mask_dist(1, 255);
  for (size_t pos : positions) {
    std::vector<uint8_t> img = image_;
    const int mask = mask_dist(rng);
    img[pos] ^= static_cast<uint8_t>(mask);
    Status st = DecodeIntoSentinel(img, img.size());
    ASSERT_FALSE(st.ok()) << "payload byte " << pos << " ^ " << mask << " was accepted";
    ASSERT_TRUE(HasSentinel(pool_, dst_)) << "payload byte " << pos << " touched the pool";
  }
}

TEST_F(BlockFileTest, TruncationIsRejectedAtEveryShortLength) {
  const size_t full = image_.size();
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= sizeof(BlockFileHeader) + 64; ++n) lengths.push_back(n);
  for (size_t n : {full / 2, full - 256, full - 128, full - 2, full - 1}) lengths.push_back(n);
  for (size_t n : lengths) {
    ASSERT_LT(n, full);
    // A copy of exactly n bytes, so nothing past the end can be read without being noticed.
    std::vector<uint8_t> img(image_.begin(), image_.begin() + static_cast<std::ptrdiff_t>(n));
    FillSentinel(pool_, dst_);
    Status st = DecodeBlock(id_, img.data(), n, key_, parent_, tokens_.data(), pool_, dst_);
    ASSERT_FALSE(st.ok()) << "truncated to " << n << " bytes was accepted";
    ASSERT_TRUE(HasSentinel(pool_, dst_)) << n;
  }
}

TEST_F(BlockFileTest, TrailingBytesAreRejected) {
  for (size_t extra : {1, 2, 64}) {
    std::vector<uint8_t> img = image_;
    img.resize(img.size() + extra, 0);
    Status st = DecodeIntoSentinel(img, img.size());
    EXPECT_FALSE(st.ok()) << extra;
    EXPECT_TRUE(HasSentinel(pool_, dst_));
  }
}

TEST_F(BlockFileTest, OtherModelFingerprintIsRejected) {
  BlockFileIdentity other = id_;
  other.model_fingerprint ^= 1;
  FillSentinel(pool_, dst_);
  Status st =
      DecodeBlock(other, image_.data(), image_.size(), key_, parent_, tokens_.data(), pool_, dst_);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("another model"), std::string::npos) << st.message();
  EXPECT_TRUE(HasSentinel(pool_, dst_));
  BlockFileHeader h;
  std::memcpy(&h, image_.data(), sizeof(h));
  EXPECT_FALSE(CheckBlockHeader(other, h, image_.size()).ok());
}

TEST_F(BlockFileTest, OtherLayoutOrDtypeIsRejected) {
  std::vector<BlockFileIdentity> others;
  for (int field = 0; field < 5; ++field) {
    BlockFileIdentity o = id_;
    switch (field) {
      case 0:
        o.layout.n_layers = 3;
        break;
      case 1:
        o.layout.n_kv_heads = 2;
        break;
      case 2:
        o.layout.head_dim = 4;
        break;
      case 3:
        o.layout.block_tokens = 8;
        break;
      case 4:
        o.kv_dtype = 1;
        break;
    }
    others.push_back(o);
  }
  // Same total payload size, different shape: 1 layer x 2 heads would also be 256 bytes.
  BlockFileIdentity same_size = id_;
  same_size.layout.n_layers = 1;
  same_size.layout.n_kv_heads = 2;
  others.push_back(same_size);
  for (size_t i = 0; i < others.size(); ++i) {
    const BlockFileIdentity& o = others[i];
    KvPool pool(o.layout, 1);  // a pool of that layout, so a wrongful write would stay in bounds
    const int32_t b = *pool.Allocate();
    FillSentinel(pool, b);
    Status st =
        DecodeBlock(o, image_.data(), image_.size(), key_, parent_, tokens_.data(), pool, b);
    EXPECT_FALSE(st.ok()) << "identity variant " << i << " accepted";
    EXPECT_TRUE(HasSentinel(pool, b)) << i;
    BlockFileHeader h;
    std::memcpy(&h, image_.data(), sizeof(h));
    EXPECT_FALSE(CheckBlockHeader(o, h, image_.size()).ok()) << i;
  }
}

// Layouts whose V is read from K (MLA) store K rows only, as format version 2; a file of the
// other layout with the same dims (a cache written before, with K and V rows) is never read.
TEST(BlockFileKOnlyTest, RoundTripsAndRefusesTheOtherLayout) {
  BlockFileIdentity k_only = SmallIdentity();
  k_only.layout.v_from_k = true;
  const BlockFileIdentity both = SmallIdentity();
  KvPool pool(k_only.layout, 2), pool_both(both.layout, 1);
  std::vector<int32_t> tokens = {5, 6, 7, 8};
  const uint64_t parent = RootKey(kFingerprint, "");
  const uint64_t key = BlockKey(parent, tokens.data(), 4);
  const int32_t src = *pool.Allocate(), dst = *pool.Allocate();
  const size_t n = SlabElems(pool);
  for (int l = 0; l < 2; ++l)
    for (size_t i = 0; i < n; ++i) K16(pool, src, l)[i] = PatternValue(key, l, 0, i);
  const std::vector<uint8_t> img = EncodeBlock(k_only, pool, src, key, parent, tokens.data());
  // 96 header + 4 tokens * 4 bytes + 2 layers * K * 4 tokens * 8 dims * 2 bytes.
  EXPECT_EQ(img.size(), 96u + 16u + 128u);
  EXPECT_EQ(img.size(), BlockFileBytes(k_only));
  BlockFileHeader h;
  std::memcpy(&h, img.data(), sizeof(h));
  EXPECT_EQ(h.version, kBlockFormatVersionKOnly);
  EXPECT_EQ(h.payload_bytes, 16u + 128u);
  FillSentinel(pool, dst);
  ASSERT_TRUE(
      DecodeBlock(k_only, img.data(), img.size(), key, parent, tokens.data(), pool, dst).ok());
  for (int l = 0; l < 2; ++l)
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(K16(pool, dst, l)[i], PatternValue(key, l, 0, i));

  // The K + V file of the same model and dims: refused by the K-only reader, naming the version.
  const int32_t b = *pool_both.Allocate();
  FillPattern(pool_both, b, key);
  const std::vector<uint8_t> old = EncodeBlock(both, pool_both, b, key, parent, tokens.data());
  FillSentinel(pool, dst);
  Status st = DecodeBlock(k_only, old.data(), old.size(), key, parent, tokens.data(), pool, dst);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("version 1 (K and V rows)"), std::string::npos) << st.message();
  EXPECT_TRUE(HasSentinel(pool, dst));
  std::memcpy(&h, old.data(), sizeof(h));
  EXPECT_FALSE(CheckBlockHeader(k_only, h, old.size()).ok());
  // And the K-only file is refused by a K + V reader.
  FillSentinel(pool_both, b);
  st = DecodeBlock(both, img.data(), img.size(), key, parent, tokens.data(), pool_both, b);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("version 2 (K rows only)"), std::string::npos) << st.message();
  EXPECT_TRUE(HasSentinel(pool_both, b));
}

TEST_F(BlockFileTest, WrongExpectedKeyParentOrTokensIsRejected) {
  // Another key.
  FillSentinel(pool_, dst_);
  Status st = DecodeBlock(id_, image_.data(), image_.size(), key_ ^ 1, parent_, tokens_.data(),
                          pool_, dst_);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(HasSentinel(pool_, dst_));
  // Another parent.
  st = DecodeBlock(id_, image_.data(), image_.size(), key_, parent_ ^ 1, tokens_.data(), pool_,
                   dst_);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(HasSentinel(pool_, dst_));
  // Another token at each position, with the right key and parent.
  for (int i = 0; i < 4; ++i) {
    std::vector<int32_t> t = tokens_;
    t[i] += 1;
    st = DecodeBlock(id_, image_.data(), image_.size(), key_, parent_, t.data(), pool_, dst_);
    EXPECT_FALSE(st.ok()) << i;
    EXPECT_TRUE(HasSentinel(pool_, dst_)) << i;
  }
  // The key a request would compute for other tokens.
  std::vector<int32_t> t = tokens_;
  t[3] = 99;
  const uint64_t k2 = BlockKey(parent_, t.data(), 4);
  st = DecodeBlock(id_, image_.data(), image_.size(), k2, parent_, t.data(), pool_, dst_);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(HasSentinel(pool_, dst_));
}

TEST_F(BlockFileTest, SelfInconsistentKeyIsRejected) {
  // A well-formed file (valid checksums) whose key is not BlockKey(parent, tokens).
  const uint64_t bogus = key_ ^ 0x100;
  auto img = EncodeBlock(id_, pool_, src_, bogus, parent_, tokens_.data());
  FillSentinel(pool_, dst_);
  Status st = DecodeBlock(id_, img.data(), img.size(), bogus, parent_, tokens_.data(), pool_, dst_);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(HasSentinel(pool_, dst_));
}

TEST_F(BlockFileTest, ForgedHeadersWithValidChecksumsAreRejected) {
  struct Case {
    const char* what;
    std::vector<uint8_t> img;
  };
  std::vector<Case> cases;
  cases.push_back({"magic", ForgeHeader([](BlockFileHeader& h, auto&) { h.magic[7] = '2'; })});
  cases.push_back({"version", ForgeHeader([](BlockFileHeader& h, auto&) { h.version = 2; })});
  cases.push_back({"version0", ForgeHeader([](BlockFileHeader& h, auto&) { h.version = 0; })});
  cases.push_back(
      {"header_bytes", ForgeHeader([](BlockFileHeader& h, auto&) { h.header_bytes = 112; })});
  cases.push_back({"fingerprint", ForgeHeader([](BlockFileHeader& h, auto&) {
                     h.model_fingerprint ^= 0x8000000000000000ULL;
                   })});
  cases.push_back(
      {"block_tokens", ForgeHeader([](BlockFileHeader& h, auto&) { h.block_tokens = 2; })});
  cases.push_back({"dtype", ForgeHeader([](BlockFileHeader& h, auto&) { h.kv_dtype = 2; })});
  cases.push_back({"n_layers", ForgeHeader([](BlockFileHeader& h, auto&) { h.n_layers = 1; })});
  cases.push_back({"heads", ForgeHeader([](BlockFileHeader& h, auto&) { h.n_kv_heads = 2; })});
  cases.push_back({"head_dim", ForgeHeader([](BlockFileHeader& h, auto&) { h.head_dim = 16; })});
  cases.push_back({"row_bytes", ForgeHeader([](BlockFileHeader& h, auto&) { h.row_bytes = 8; })});
  cases.push_back({"payload_bytes (short)", ForgeHeader(
                                                [](BlockFileHeader& h, auto& img) {
                                                  h.payload_bytes -= 2;
                                                  img.resize(img.size() - 2);
                                                },
                                                /*fix_payload_hash=*/true)});
  cases.push_back({"payload_bytes (huge)", ForgeHeader([](BlockFileHeader& h, auto&) {
                     h.payload_bytes = ~uint64_t{0} - 50;
                   })});
  cases.push_back({"key", ForgeHeader([this](BlockFileHeader& h, auto&) { h.key = key_ ^ 4; })});
  cases.push_back(
      {"parent", ForgeHeader([this](BlockFileHeader& h, auto&) { h.parent_key = parent_ ^ 4; })});
  // Tokens changed in the payload with both checksums fixed: the key no longer matches.
  cases.push_back(
      {"tokens", ForgeHeader([](BlockFileHeader&, auto& img) { img[sizeof(BlockFileHeader)] ^= 1; },
                             /*fix_payload_hash=*/true)});
  for (const Case& c : cases) {
    Status st = DecodeIntoSentinel(c.img, c.img.size());
    EXPECT_FALSE(st.ok()) << c.what << " accepted";
    EXPECT_TRUE(HasSentinel(pool_, dst_)) << c.what;
  }
  // Control: a forged header changing only the creation time is still a valid file.
  auto ok = ForgeHeader([](BlockFileHeader& h, auto&) { h.created_unix_ms = 1; });
  Status st = DecodeIntoSentinel(ok, ok.size());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(HasPattern(pool_, dst_, key_));
}

TEST_F(BlockFileTest, CheckBlockHeaderChecksTheFileSize) {
  BlockFileHeader h;
  std::memcpy(&h, image_.data(), sizeof(h));
  EXPECT_TRUE(CheckBlockHeader(id_, h, image_.size()).ok());
  EXPECT_FALSE(CheckBlockHeader(id_, h, image_.size() - 1).ok());
  EXPECT_FALSE(CheckBlockHeader(id_, h, image_.size() + 1).ok());
  EXPECT_FALSE(CheckBlockHeader(id_, h, sizeof(h)).ok());
  EXPECT_FALSE(CheckBlockHeader(id_, h, 0).ok());
}

TEST_F(BlockFileTest, AllZeroAndRandomImagesAreRejected) {
  std::vector<uint8_t> zeros(image_.size(), 0);
  EXPECT_FALSE(DecodeIntoSentinel(zeros, zeros.size()).ok());
  EXPECT_TRUE(HasSentinel(pool_, dst_));
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> junk(image_.size());
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    std::memcpy(junk.data(), kBlockMagic, 8);  // get past the magic check
    EXPECT_FALSE(DecodeIntoSentinel(junk, junk.size()).ok());
    EXPECT_TRUE(HasSentinel(pool_, dst_));
  }
}

}  // namespace
}  // namespace semantic::kv

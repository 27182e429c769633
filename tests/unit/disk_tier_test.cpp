// KV disk tier: write/reopen/load, start-up scan (temp files, quarantine, foreign files), load-time
// quarantine, LRU disk budget with protected keys, unusable directories and kill -9 safety.
#include "kv/disk_tier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/atomic_file.h"
#include "base/log.h"
#include "kv/block_key.h"
#include "kv/kv_pool.h"
#include "kv_test_util.h"

namespace semantic::kv {
namespace {

namespace fs = std::filesystem;
using namespace testing_util;

constexpr uint64_t kBigBudget = uint64_t{1} << 30;

// Queues block i of `c` for writing from a freshly allocated pool block filled with its pattern.
void EnqueueChainBlock(DiskTier& tier, KvPool& pool, const Chain& c, size_t i) {
  auto b = pool.Allocate();
  if (!b.ok()) {
    tier.Flush();  // blocks held by pending writes come back once written
    b = pool.Allocate();
  }
  ASSERT_TRUE(b.ok()) << b.status().message();
  FillPattern(pool, *b, c.keys[i]);
  tier.EnqueueBlock(*b, c.keys[i], c.parent(i), c.block_tokens_of(i));
  pool.Release(*b);
}

class DiskTierTest : public ::testing::Test {
 protected:
  DiskTierTest()
      : id_(SmallIdentity()), chain_(RootKey(kFingerprint, ""), 8, id_.layout.block_tokens, 1) {}

  const std::string& cache_dir() const { return scratch_.path(); }
  std::string tier_dir(uint64_t fp = kFingerprint) const { return cache_dir() + "/" + KeyHex(fp); }
  uint64_t file_bytes() const { return BlockFileBytes(id_); }

  // Writes blocks [first, last) of `c` through a tier of its own on `dir` and closes it.
  void WriteChain(const Chain& c, size_t first, size_t last, const BlockFileIdentity& id,
                  uint64_t budget = kBigBudget) {
    KvPool pool(id.layout, 16);
    DiskTier tier(pool, id);
    ASSERT_TRUE(tier.Open(cache_dir(), budget).ok());
    for (size_t i = first; i < last; ++i) EnqueueChainBlock(tier, pool, c, i);
    tier.Flush();
    EXPECT_EQ(tier.Stats().write_errors, 0u);
  }
  void WriteChain(size_t first, size_t last) { WriteChain(chain_, first, last, id_); }

  // Loads block i of `c` into a sentinel-filled block: true when it loads with the right data.
  // A failed load must leave the sentinel in place.
  bool LoadsCorrectly(DiskTier& tier, KvPool& pool, int32_t block, const Chain& c, size_t i) {
    FillSentinel(pool, block);
    Status st = tier.Load(c.keys[i], c.parent(i), c.block_tokens_of(i), block);
    if (!st.ok()) {
      EXPECT_TRUE(HasSentinel(pool, block)) << "a failed load wrote into the pool";
      return false;
    }
    EXPECT_TRUE(HasPattern(pool, block, c.keys[i])) << "block " << i << " loaded wrong data";
    return HasPattern(pool, block, c.keys[i]);
  }

  static void FlipByte(const std::string& path, size_t pos) {
    std::vector<uint8_t> bytes = ReadBytes(path);
    ASSERT_LT(pos, bytes.size());
    bytes[pos] ^= 0x40;
    WriteBytes(path, bytes);
  }

  ScratchDir scratch_;
  BlockFileIdentity id_;
  Chain chain_;
};

TEST_F(DiskTierTest, OpenCreatesTheDirectoryLayout) {
  KvPool pool(id_.layout, 4);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  EXPECT_TRUE(tier.enabled());
  EXPECT_EQ(tier.dir(), tier_dir());
  for (const char* sub : {"blocks", "agents", "quarantine"}) {
    EXPECT_TRUE(fs::is_directory(tier_dir() + "/" + sub)) << sub;
  }
  EXPECT_FALSE(fs::exists(tier_dir() + "/.probe"));
  const uint64_t key = chain_.keys[0];
  const std::string hex = KeyHex(key);
  EXPECT_EQ(tier.BlockPath(key), tier_dir() + "/blocks/" + hex.substr(0, 2) + "/" + hex + ".kvb");
  DiskTierStats s = tier.Stats();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.budget, kBigBudget);
  EXPECT_EQ(s.files, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(DiskTierTest, DisabledByChoiceWithoutDirectoryOrBudget) {
  KvPool pool(id_.layout, 4);
  {
    DiskTier tier(pool, id_);
    EXPECT_TRUE(tier.Open("", kBigBudget).ok());
    EXPECT_FALSE(tier.enabled());
  }
  {
    DiskTier tier(pool, id_);
    EXPECT_TRUE(tier.Open(cache_dir(), 0).ok());
    EXPECT_FALSE(tier.enabled());
    EXPECT_FALSE(fs::exists(tier_dir()));
  }
}

TEST_F(DiskTierTest, WriteFlushReopenAndLoadGiveIdenticalData) {
  {
    KvPool pool(id_.layout, 16);
    DiskTier tier(pool, id_);
    ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
    for (size_t i = 0; i < chain_.keys.size(); ++i) EnqueueChainBlock(tier, pool, chain_, i);
    tier.Flush();
    DiskTierStats s = tier.Stats();
    EXPECT_EQ(s.writes, 8u);
    EXPECT_EQ(s.files, 8u);
    EXPECT_EQ(s.bytes, 8 * file_bytes());
    EXPECT_EQ(s.pending_writes, 0u);
    EXPECT_EQ(s.write_errors, 0u);
    // The references held for pending writes are all returned.
    EXPECT_EQ(pool.n_free(), pool.n_blocks());
    for (uint64_t key : chain_.keys) {
      EXPECT_TRUE(tier.Has(key));
      EXPECT_TRUE(fs::is_regular_file(tier.BlockPath(key)));
      EXPECT_EQ(fs::file_size(tier.BlockPath(key)), file_bytes());
    }
    EXPECT_TRUE(FilesUnder(cache_dir(), kTempMarker).empty());
    // Loading in the writing process works too.
    const int32_t b = *pool.Allocate();
    EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 3));
    pool.Release(b);
  }
  // A restart: a new pool and a new tier on the same directory.
  KvPool pool(id_.layout, 4);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.files, 8u);
  EXPECT_EQ(s.bytes, 8 * file_bytes());
  EXPECT_EQ(s.quarantined, 0u);
  const int32_t b = *pool.Allocate();
  for (size_t i = 0; i < chain_.keys.size(); ++i) {
    EXPECT_TRUE(tier.Has(chain_.keys[i]));
    EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, i)) << i;
  }
  EXPECT_EQ(tier.Stats().loads, 8u);
  EXPECT_FALSE(tier.Has(RootKey(kFingerprint, "nothing")));
}

TEST_F(DiskTierTest, EnqueueHoldsAPoolReferenceAndSkipsKnownKeys) {
  KvPool pool(id_.layout, 4);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  const int32_t b = *pool.Allocate();
  FillPattern(pool, b, chain_.keys[0]);
  tier.EnqueueBlock(b, chain_.keys[0], chain_.parent(0), chain_.block_tokens_of(0));
  // Queued twice: written once.
  tier.EnqueueBlock(b, chain_.keys[0], chain_.parent(0), chain_.block_tokens_of(0));
  pool.Release(b);  // the tier's reference keeps the block from being reused
  tier.Flush();
  EXPECT_EQ(tier.Stats().writes, 1u);
  EXPECT_EQ(pool.n_free(), 4);
  // Already on disk: no reference taken, nothing written.
  const int32_t c = *pool.Allocate();
  FillPattern(pool, c, chain_.keys[0]);
  tier.EnqueueBlock(c, chain_.keys[0], chain_.parent(0), chain_.block_tokens_of(0));
  EXPECT_EQ(pool.RefCount(c), 1);
  tier.Flush();
  EXPECT_EQ(tier.Stats().writes, 1u);
  pool.Release(c);
}

TEST_F(DiskTierTest, StaleTempFilesAreRemovedAtScanAndNeverAdopted) {
  WriteChain(0, 2);
  const std::string hex = KeyHex(chain_.keys[2]);
  const std::string sub = tier_dir() + "/blocks/" + hex.substr(0, 2) + "/";
  // A complete, valid image under a temp name (as left by a crash before rename) and a partial
  // one, plus one directly under blocks/.
  {
    KvPool pool(id_.layout, 1);
    const int32_t b = *pool.Allocate();
    FillPattern(pool, b, chain_.keys[2]);
    auto img =
        EncodeBlock(id_, pool, b, chain_.keys[2], chain_.parent(2), chain_.block_tokens_of(2));
    WriteBytes(sub + hex + ".kvb.tmp-12345-0", img);
    img.resize(50);
    WriteBytes(sub + hex + ".kvb.tmp-12345-1", img);
    WriteBytes(tier_dir() + "/blocks/" + hex + ".kvb.tmp-1-7", {1, 2, 3});
  }
  ASSERT_EQ(FilesUnder(tier_dir(), kTempMarker).size(), 3u);
  KvPool pool(id_.layout, 2);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  EXPECT_TRUE(FilesUnder(cache_dir(), kTempMarker).empty());
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.quarantined, 0u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_FALSE(tier.Has(chain_.keys[2]));
  EXPECT_TRUE(FilesUnder(tier_dir() + "/quarantine").empty());
}

TEST_F(DiskTierTest, CorruptHeaderIsQuarantinedAtScan) {
  WriteChain(0, 3);
  const std::string path = tier_dir() + "/blocks/" + KeyHex(chain_.keys[1]).substr(0, 2) + "/" +
                           KeyHex(chain_.keys[1]) + ".kvb";
  FlipByte(path, 30);  // inside the header (the key field)
  KvPool pool(id_.layout, 2);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.quarantined, 1u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_FALSE(tier.Has(chain_.keys[1]));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(FilesUnder(tier_dir() + "/quarantine").size(), 1u);
  const int32_t b = *pool.Allocate();
  EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, 1));
  EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 0));
  EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 2));
}

TEST_F(DiskTierTest, CorruptPayloadIsQuarantinedAtLoad) {
  WriteChain(0, 3);
  KvPool pool(id_.layout, 2);
  std::string path;
  {
    DiskTier probe(pool, id_);
    ASSERT_TRUE(probe.Open(cache_dir(), kBigBudget).ok());
    path = probe.BlockPath(chain_.keys[2]);
  }
  FlipByte(path, sizeof(BlockFileHeader) + 100);  // K/V data: the header stays valid
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  EXPECT_EQ(tier.Stats().quarantined, 0u);
  ASSERT_TRUE(tier.Has(chain_.keys[2]));  // the scan reads headers only
  const int32_t b = *pool.Allocate();
  EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, 2));
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.quarantined, 1u);
  EXPECT_EQ(s.loads, 0u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.bytes, 2 * file_bytes());
  EXPECT_FALSE(tier.Has(chain_.keys[2]));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(FilesUnder(tier_dir() + "/quarantine").size(), 1u);
  // A second attempt is a plain miss (the file is gone), not a second quarantine.
  EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, 2));
  EXPECT_EQ(tier.Stats().quarantined, 1u);
  EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 1));
  // And it stays out after a restart.
  DiskTier again(pool, id_);
  ASSERT_TRUE(again.Open(cache_dir(), kBigBudget).ok());
  EXPECT_FALSE(again.Has(chain_.keys[2]));
  EXPECT_EQ(again.Stats().files, 2u);
}

TEST_F(DiskTierTest, TruncatedAndMisnamedFilesAreQuarantinedAtScan) {
  WriteChain(0, 4);
  KvPool pool(id_.layout, 2);
  std::string p0, p1, p2, p3;
  {
    DiskTier probe(pool, id_);
    ASSERT_TRUE(probe.Open(cache_dir(), kBigBudget).ok());
    p0 = probe.BlockPath(chain_.keys[0]);
    p1 = probe.BlockPath(chain_.keys[1]);
    p2 = probe.BlockPath(chain_.keys[2]);
    p3 = probe.BlockPath(chain_.keys[3]);
  }
  fs::resize_file(p0, file_bytes() - 1);  // truncated payload
  fs::resize_file(p1, 40);                // truncated header
  // Block 2's file renamed to another key's name: name and header disagree.
  const uint64_t other_key = chain_.keys[2] ^ 0xff00;
  const std::string hex = KeyHex(other_key);
  const std::string renamed = tier_dir() + "/blocks/" + hex.substr(0, 2) + "/" + hex + ".kvb";
  fs::create_directories(fs::path(renamed).parent_path());
  fs::rename(p2, renamed);
  // Files whose names are not keys.
  WriteBytes(tier_dir() + "/blocks/zz/not-a-key.kvb", ReadBytes(p3));
  WriteBytes(tier_dir() + "/blocks/" + KeyHex(chain_.keys[3]).substr(0, 2) + "/" +
                 KeyHex(chain_.keys[3]) + ".bin",
             ReadBytes(p3));
  WriteBytes(tier_dir() + "/blocks/0000000000000000.kvb", ReadBytes(p3));  // key 0 is never valid
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.quarantined, 6u);
  EXPECT_EQ(s.files, 1u);
  EXPECT_TRUE(tier.Has(chain_.keys[3]));
  EXPECT_FALSE(tier.Has(chain_.keys[0]));
  EXPECT_FALSE(tier.Has(chain_.keys[1]));
  EXPECT_FALSE(tier.Has(chain_.keys[2]));
  EXPECT_FALSE(tier.Has(other_key));
  EXPECT_EQ(FilesUnder(tier_dir() + "/blocks").size(), 1u);
  const int32_t b = *pool.Allocate();
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, i)) << i;
  EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 3));
}

TEST_F(DiskTierTest, FileOfAnotherModelIsQuarantinedAndNeverLoaded) {
  constexpr uint64_t kOtherFp = 0x0dd0dd0dd0dd0dd1ULL;
  const BlockFileIdentity other = SmallIdentity(kOtherFp);
  // Same root and tokens in both models, so the copied file has exactly the name and key this
  // model would look up: only the fingerprint tells them apart.
  WriteChain(chain_, 0, 3, other);
  KvPool pool(id_.layout, 2);
  std::string ours0, ours2;
  {
    DiskTier probe(pool, id_);
    ASSERT_TRUE(probe.Open(cache_dir(), kBigBudget).ok());
    ours0 = probe.BlockPath(chain_.keys[0]);
    ours2 = probe.BlockPath(chain_.keys[2]);
  }
  std::string theirs0, theirs2;
  {
    KvPool other_pool(other.layout, 2);
    DiskTier theirs(other_pool, other);
    ASSERT_TRUE(theirs.Open(cache_dir(), kBigBudget).ok());
    theirs0 = theirs.BlockPath(chain_.keys[0]);
    theirs2 = theirs.BlockPath(chain_.keys[2]);
  }
  ASSERT_NE(ours0, theirs0);
  // Copied in before start-up: quarantined by the scan.
  WriteBytes(ours0, ReadBytes(theirs0));
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  EXPECT_EQ(tier.Stats().quarantined, 1u);
  EXPECT_EQ(tier.Stats().files, 0u);
  EXPECT_FALSE(tier.Has(chain_.keys[0]));
  const int32_t b = *pool.Allocate();
  EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, 0));
  // Copied in while running (never scanned): a load attempt rejects and quarantines it.
  WriteBytes(ours2, ReadBytes(theirs2));
  EXPECT_FALSE(LoadsCorrectly(tier, pool, b, chain_, 2));
  EXPECT_EQ(tier.Stats().quarantined, 2u);
  EXPECT_EQ(tier.Stats().loads, 0u);
  EXPECT_FALSE(fs::exists(ours2));
  // The other model's own directory is untouched and still serves it.
  KvPool other_pool(other.layout, 1);
  DiskTier theirs(other_pool, other);
  ASSERT_TRUE(theirs.Open(cache_dir(), kBigBudget).ok());
  EXPECT_EQ(theirs.Stats().files, 3u);
  EXPECT_EQ(theirs.Stats().quarantined, 0u);
  const int32_t ob = *other_pool.Allocate();
  EXPECT_TRUE(LoadsCorrectly(theirs, other_pool, ob, chain_, 0));
}

TEST_F(DiskTierTest, FileOfAnotherLayoutIsQuarantinedAtScan) {
  BlockFileIdentity other = id_;
  other.layout.head_dim = 16;  // same fingerprint, different layout: same directory
  WriteChain(chain_, 0, 2, other);
  KvPool pool(id_.layout, 1);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  EXPECT_EQ(tier.Stats().quarantined, 2u);
  EXPECT_EQ(tier.Stats().files, 0u);
  EXPECT_FALSE(tier.Has(chain_.keys[0]));
}

TEST_F(DiskTierTest, BudgetEvictsOldestFilesAndKeepsProtectedOnes) {
  KvPool pool(id_.layout, 4);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), 5 * file_bytes()).ok());
  tier.Protect(chain_.keys[0], true);
  tier.Protect(chain_.keys[1], true);
  tier.Protect(chain_.keys[1], true);
  tier.Protect(chain_.keys[1], false);  // counted: still protected once
  for (size_t i = 0; i < 8; ++i) {
    EnqueueChainBlock(tier, pool, chain_, i);
    tier.Flush();  // one at a time, so the LRU order is the write order
  }
  // 8 written, room for 5: the oldest unprotected ones (2, 3, 4) are gone.
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.writes, 8u);
  EXPECT_EQ(s.evictions, 3u);
  EXPECT_EQ(s.files, 5u);
  EXPECT_EQ(s.bytes, 5 * file_bytes());
  for (size_t i = 0; i < 8; ++i) {
    const bool kept = i <= 1 || i >= 5;
    EXPECT_EQ(tier.Has(chain_.keys[i]), kept) << i;
    EXPECT_EQ(fs::exists(tier.BlockPath(chain_.keys[i])), kept) << i;
  }
  EXPECT_EQ(FilesUnder(tier_dir() + "/blocks").size(), 5u);
  // A load makes a block recently used: 5 is read, so 6 is the next to go.
  const int32_t b = *pool.Allocate();
  EXPECT_TRUE(LoadsCorrectly(tier, pool, b, chain_, 5));
  pool.Release(b);
  // Unprotecting 1 makes it the oldest.
  tier.Protect(chain_.keys[1], false);
  Chain more(chain_.keys.back(), 2, id_.layout.block_tokens, 2);
  EnqueueChainBlock(tier, pool, more, 0);
  tier.Flush();
  EXPECT_FALSE(tier.Has(chain_.keys[1]));
  EXPECT_TRUE(tier.Has(chain_.keys[0]));
  EXPECT_TRUE(tier.Has(chain_.keys[5]));
  EXPECT_TRUE(tier.Has(more.keys[0]));
  EnqueueChainBlock(tier, pool, more, 1);
  tier.Flush();
  EXPECT_FALSE(tier.Has(chain_.keys[6]));
  EXPECT_TRUE(tier.Has(chain_.keys[5]));
  EXPECT_TRUE(tier.Has(chain_.keys[7]));
  EXPECT_EQ(tier.Stats().files, 5u);
  EXPECT_EQ(tier.Stats().evictions, 5u);
}

TEST_F(DiskTierTest, BudgetAtStartUpKeepsTheNewestFiles) {
  WriteChain(0, 6);
  KvPool pool(id_.layout, 2);
  {
    DiskTier probe(pool, id_);
    ASSERT_TRUE(probe.Open(cache_dir(), kBigBudget).ok());
    // Make the modification order explicit: block i is i + 1 minutes old (block 0 newest).
    const auto now = fs::file_time_type::clock::now();
    for (size_t i = 0; i < 6; ++i) {
      fs::last_write_time(probe.BlockPath(chain_.keys[i]), now - std::chrono::minutes(i + 1));
    }
  }
  DiskTier tier(pool, id_);
  tier.Protect(chain_.keys[5], true);  // protection set before Open applies to the scan
  ASSERT_TRUE(tier.Open(cache_dir(), 3 * file_bytes()).ok());
  DiskTierStats s = tier.Stats();
  EXPECT_EQ(s.files, 3u);
  EXPECT_EQ(s.evictions, 3u);
  EXPECT_TRUE(tier.Has(chain_.keys[0]));
  EXPECT_TRUE(tier.Has(chain_.keys[1]));
  EXPECT_TRUE(tier.Has(chain_.keys[5]));
  for (size_t i : {2, 3, 4}) {
    EXPECT_FALSE(tier.Has(chain_.keys[i])) << i;
    EXPECT_FALSE(fs::exists(tier.BlockPath(chain_.keys[i]))) << i;
  }
}

TEST_F(DiskTierTest, RemoveRemoveAllAndSmallFiles) {
  KvPool pool(id_.layout, 8);
  DiskTier tier(pool, id_);
  ASSERT_TRUE(tier.Open(cache_dir(), kBigBudget).ok());
  for (size_t i = 0; i < 4; ++i) EnqueueChainBlock(tier, pool, chain_, i);
  tier.EnqueueFile("agents/a.json", "{\"x\":1}");
  tier.Flush();
  auto bytes = ReadBytes(tier_dir() + "/agents/a.json");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"x\":1}");
  tier.EnqueueFile("agents/a.json", "{\"x\":2}");  // replaced atomically
  tier.Flush();
  bytes = ReadBytes(tier_dir() + "/agents/a.json");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"x\":2}");
  tier.RemoveFile("agents/a.json");
  EXPECT_FALSE(fs::exists(tier_dir() + "/agents/a.json"));

  const std::string p1 = tier.BlockPath(chain_.keys[1]);
  tier.Remove(chain_.keys[1]);
  EXPECT_FALSE(tier.Has(chain_.keys[1]));
  EXPECT_FALSE(fs::exists(p1));
  EXPECT_EQ(tier.Stats().files, 3u);
  EXPECT_EQ(tier.Stats().bytes, 3 * file_bytes());
  tier.Remove(chain_.keys[1]);  // unknown: no-op
  EXPECT_EQ(tier.Stats().files, 3u);
  // A removed key can be written again.
  EnqueueChainBlock(tier, pool, chain_, 1);
  tier.Flush();
  EXPECT_TRUE(tier.Has(chain_.keys[1]));
  EnqueueChainBlock(tier, pool, chain_, 4);  // pending when RemoveAll starts: flushed first
  tier.RemoveAll();
  EXPECT_EQ(tier.Stats().files, 0u);
  EXPECT_EQ(tier.Stats().bytes, 0u);
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(tier.Has(chain_.keys[i])) << i;
  EXPECT_TRUE(FilesUnder(tier_dir() + "/blocks").empty());
}

TEST_F(DiskTierTest, UnusableDirectoryDisablesTheTier) {
  const std::string file = cache_dir() + "/regular-file";
  WriteBytes(file, {'x'});
  KvPool pool(id_.layout, 4);
  DiskTier tier(pool, id_);
  Status st = tier.Open(file + "/cache", kBigBudget);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIo) << st.message();
  EXPECT_FALSE(tier.enabled());
  EXPECT_FALSE(tier.Stats().enabled);
  const int32_t b = *pool.Allocate();
  FillPattern(pool, b, chain_.keys[0]);
  tier.EnqueueBlock(b, chain_.keys[0], chain_.parent(0), chain_.block_tokens_of(0));
  EXPECT_EQ(pool.RefCount(b), 1);  // no reference taken: nothing is queued
  EXPECT_EQ(tier.Stats().pending_writes, 0u);
  tier.EnqueueFile("agents/x.json", "{}");
  EXPECT_EQ(tier.Stats().pending_writes, 0u);
  tier.Flush();  // returns at once
  EXPECT_FALSE(tier.Has(chain_.keys[0]));
  FillSentinel(pool, b);
  EXPECT_FALSE(tier.Load(chain_.keys[0], chain_.parent(0), chain_.block_tokens_of(0), b).ok());
  EXPECT_TRUE(HasSentinel(pool, b));
  tier.Remove(chain_.keys[0]);
  tier.RemoveFile("agents/x.json");
  tier.RemoveAll();
  tier.Protect(chain_.keys[0], true);
  EXPECT_EQ(tier.Stats().writes, 0u);
  EXPECT_EQ(tier.Stats().files, 0u);
  pool.Release(b);
  EXPECT_TRUE(fs::is_regular_file(file));
}

// ---- kill -9 crash safety -------------------------------------------------------------------

constexpr int kCrashBlocksPerTrial = 256;

// The child: opens a tier on `dir` and writes the blocks of `chain` as fast as it can. Writes 'r'
// to `ready_fd` once the tier is open and 'd' once every block is on disk, then waits to be
// killed. Never returns.
[[noreturn]] void CrashChild(const std::string& dir, const BlockFileIdentity& id,
                             const Chain& chain, int ready_fd) {
  KvPool pool(id.layout, 32);
  auto* tier = new DiskTier(pool, id);  // never destroyed: the process dies mid-write
  if (!tier->Open(dir, kBigBudget).ok()) _exit(3);
  const char ready = 'r';
  if (write(ready_fd, &ready, 1) != 1) _exit(4);
  for (size_t i = 0; i < chain.keys.size(); ++i) {
    auto b = pool.Allocate();
    while (!b.ok()) {  // every block waits for the writer: let it catch up
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      b = pool.Allocate();
    }
    FillPattern(pool, *b, chain.keys[i]);
    tier->EnqueueBlock(*b, chain.keys[i], chain.parent(i), chain.block_tokens_of(i));
    pool.Release(*b);
  }
  tier->Flush();
  const char done = 'd';
  if (write(ready_fd, &done, 1) != 1) _exit(5);
  for (;;) pause();
}

TEST(DiskTierCrashTest, KillDuringWritesNeverYieldsAWrongBlock) {
  ScratchDir scratch;
  const BlockFileIdentity id = SmallIdentity();
  const log::Level saved_level = log::GetLevel();
  log::SetLevel(log::Level::kWarn);  // the per-trial "adopted N blocks" lines are noise here
  std::mt19937 rng(0x5eed);
  std::uniform_int_distribution<int> delay_us(0, 30000);
  constexpr int kTrials = 60;
  std::vector<uint64_t> adopted_before;  // keys adopted after earlier trials
  int total_loaded = 0, wrong = 0, killed_mid_write = 0, trials_with_temp_files = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kTrials; ++trial) {
    if (trial % 10 == 0) {  // start afresh now and then, so start-up scans stay short
      std::error_code ec;
      fs::remove_all(scratch.path() + "/" + KeyHex(id.model_fingerprint), ec);
      adopted_before.clear();
    }
    Chain chain(RootKey(id.model_fingerprint, "trial-" + std::to_string(trial)),
                kCrashBlocksPerTrial, id.layout.block_tokens, 1000 + trial);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CrashChild(scratch.path(), id, chain, fds[1]);
    }
    close(fds[1]);
    char msg = 0;
    ASSERT_EQ(read(fds[0], &msg, 1), 1) << "the child could not open the tier, trial " << trial;
    ASSERT_EQ(msg, 'r');
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    kill(pid, SIGKILL);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the child exited by itself, trial " << trial;
    EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
    // The child is gone, so this read returns at once: 'd' if it had finished all its writes.
    const bool finished = read(fds[0], &msg, 1) == 1 && msg == 'd';
    close(fds[0]);
    killed_mid_write += finished ? 0 : 1;
    if (!FilesUnder(scratch.path(), kTempMarker).empty()) ++trials_with_temp_files;

    // A restart after the crash: everything adopted must load with exactly the written data.
    KvPool pool(id.layout, 2);
    DiskTier tier(pool, id);
    ASSERT_TRUE(tier.Open(scratch.path(), kBigBudget).ok());
    EXPECT_TRUE(FilesUnder(scratch.path(), kTempMarker).empty()) << "trial " << trial;
    EXPECT_EQ(tier.Stats().quarantined, 0u) << "a kill left a damaged file, trial " << trial;
    const int32_t b = *pool.Allocate();
    int loaded = 0;
    for (size_t i = 0; i < chain.keys.size(); ++i) {
      if (!tier.Has(chain.keys[i])) continue;
      FillSentinel(pool, b);
      Status st = tier.Load(chain.keys[i], chain.parent(i), chain.block_tokens_of(i), b);
      if (!st.ok()) {
        ADD_FAILURE() << "trial " << trial << " block " << i << ": " << st.message();
        EXPECT_TRUE(HasSentinel(pool, b));
        continue;
      }
      if (!HasPattern(pool, b, chain.keys[i])) {
        ++wrong;
        continue;
      }
      ++loaded;
      adopted_before.push_back(chain.keys[i]);
    }
    total_loaded += loaded;
    // Nothing but the blocks we wrote is adopted, and earlier trials' blocks are all still there.
    EXPECT_EQ(tier.Stats().files, adopted_before.size()) << "trial " << trial;
    for (uint64_t key : adopted_before) ASSERT_TRUE(tier.Has(key)) << "trial " << trial;
    pool.Release(b);
  }
  log::SetLevel(saved_level);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(wrong, 0);
  EXPECT_GT(killed_mid_write, 0) << "no child was killed while writing";
  EXPECT_GT(total_loaded, 0);
  std::printf(
      "[ crash    ] %d trials, %d killed while writing, %d blocks adopted and verified, "
      "%d trials left temp files, %d wrong, %.2f s\n",
      kTrials, killed_mid_write, total_loaded, trials_with_temp_files, wrong, secs);
}

}  // namespace
}  // namespace semantic::kv

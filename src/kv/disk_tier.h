// The disk tier of the KV cache: one file per block under <cache_dir>/<fingerprint>/blocks/,
// written by a background thread (never on the request path) and read back on demand. Start-up
// adopts every file whose header matches this model and layout, deletes stale temp files and
// quarantines the rest. A block that fails any check when loaded is quarantined, counted and
// reported as a miss (the caller recomputes it). I/O failures (read-only or full disk) are
// logged and counted; serving continues without the tier.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv/block_file.h"
#include "kv/kv_pool.h"

namespace semantic::kv {

struct DiskTierStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t budget = 0;
  uint64_t writes = 0;
  uint64_t write_errors = 0;
  uint64_t loads = 0;
  uint64_t evictions = 0;
  uint64_t quarantined = 0;
  uint64_t pending_writes = 0;
  uint64_t writes_skipped = 0;  // the writer was more than kMaxPendingBytes behind
  bool enabled = false;
};

class DiskTier {
 public:
  DiskTier(KvPool& pool, const BlockFileIdentity& id);
  ~DiskTier();  // flushes pending writes

  // Opens (creating) <cache_dir>/<fingerprint hex>/ and scans it. An unusable directory disables
  // the tier with the reason in the returned status (the server logs it and runs RAM-only).
  Status Open(const std::string& cache_dir, uint64_t budget_bytes);
  bool enabled() const { return enabled_; }
  const std::string& dir() const { return dir_; }

  bool Has(uint64_t key) const;
  // Whether the file of `key` carries the block's sliding part (sliding layouts; else Has).
  bool HasSliding(uint64_t key) const;
  // Reads the block file of `key` into `block` after every check passes; on failure the file is
  // quarantined (unless it was an I/O error) and the status says why. had_sliding: as
  // DecodeBlock's.
  Status Load(uint64_t key, uint64_t parent, const int32_t* tokens, int32_t block,
              bool* had_sliding = nullptr);

  // Queues block `block` (full, published under `key`) for writing: its file image is taken
  // now, so the pool block is not held. No-op when disabled or already on disk; skipped (and
  // counted) when the writer is more than kMaxPendingBytes behind. with_sliding (sliding
  // layouts): whether the file carries the sliding layers' rows; a block on disk (or queued)
  // without them is written again when they are asked for.
  void EnqueueBlock(int32_t block, uint64_t key, uint64_t parent, const int32_t* tokens,
                    bool with_sliding = true);
  // Queues a small file (a session record) to be written atomically under the tier's directory.
  void EnqueueFile(const std::string& relative_path, std::string contents);
  void Remove(uint64_t key);
  void RemoveFile(const std::string& relative_path);
  void RemoveAll();  // every block file (pending writes are flushed first)
  // Keys that disk eviction must keep (pinned sessions); counted, so nesting is fine.
  void Protect(uint64_t key, bool on);
  // Waits until every queued write is on disk.
  void Flush();

  DiskTierStats Stats() const;
  std::string BlockPath(uint64_t key) const;

 private:
  struct Job {
    enum class Kind { kBlock, kFile } kind = Kind::kBlock;
    uint64_t key = 0;
    bool sliding = true;         // the image carries the sliding part (or the layout has none)
    std::vector<uint8_t> bytes;  // block file image
    std::string path;            // kFile
    std::string contents;
  };
  static constexpr uint64_t kMaxPendingBytes = uint64_t{64} << 20;
  struct Entry {
    uint64_t bytes = 0;
    std::list<uint64_t>::iterator lru;
    bool sliding = true;  // the file carries the sliding part (or the layout has none)
  };
  struct Queued {
    int jobs = 0;          // pending writes of this key
    bool wanted = true;    // false: removed meanwhile, drop the file once written
    bool sliding = false;  // some pending image carries the sliding part
  };

  void WriterLoop();
  void WriteFailed(const Status& st);  // requires mu_: count, and warn at most every 10 s
  void WriteBlock(const Job& job);
  void Adopt(uint64_t key, uint64_t bytes, bool sliding);  // requires mu_
  void EnforceBudget();                      // requires mu_
  void Quarantine(const std::string& path, const std::string& why);
  void Scan();

  KvPool& pool_;
  BlockFileIdentity id_;
  std::string dir_;
  uint64_t budget_ = 0;
  bool enabled_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Job> queue_;
  bool writing_ = false;
  bool stop_ = false;
  std::thread writer_;
  std::unordered_map<uint64_t, Entry> index_;
  std::list<uint64_t> lru_;  // front: least recently used
  std::unordered_map<uint64_t, int> protected_;
  uint64_t pending_bytes_ = 0;
  std::unordered_map<uint64_t, Queued> queued_;  // pending block writes
  DiskTierStats stats_;
  uint64_t last_error_log_ms_ = 0;
};

}  // namespace semantic::kv

// Disk tier: directory scan, background writer, on-demand loads, LRU budget, quarantine.
#include "kv/disk_tier.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "base/log.h"
#include "kv/block_key.h"

namespace semantic::kv {

namespace fs = std::filesystem;

namespace {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool ParseKey(const std::string& stem, uint64_t* key) {
  if (stem.size() != 16) return false;
  char* end = nullptr;
  *key = std::strtoull(stem.c_str(), &end, 16);
  return end == stem.c_str() + 16 && *key != 0;
}

}  // namespace

DiskTier::DiskTier(KvPool& pool, const BlockFileIdentity& id) : pool_(pool), id_(id) {}

DiskTier::~DiskTier() {
  Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::string DiskTier::BlockPath(uint64_t key) const {
  const std::string hex = KeyHex(key);
  return dir_ + "/blocks/" + hex.substr(0, 2) + "/" + hex + ".kvb";
}

Status DiskTier::Open(const std::string& cache_dir, uint64_t budget_bytes) {
  if (cache_dir.empty() || budget_bytes == 0) return Status::Ok();  // tier off by choice
  dir_ = cache_dir + "/" + KeyHex(id_.model_fingerprint);
  budget_ = budget_bytes;
  std::error_code ec;
  for (const char* sub : {"blocks", "agents", "quarantine"}) {
    fs::create_directories(dir_ + "/" + sub, ec);
    if (ec) return IoError("cannot create " + dir_ + "/" + sub + ": " + ec.message());
  }
  // Probe writability now rather than failing on every block later.
  const std::string probe = dir_ + "/.probe";
  const char byte = 0;
  Status st = WriteFileAtomic(probe, &byte, 1);
  if (!st.ok()) return IoError("cache directory is not writable: " + st.message());
  fs::remove(probe, ec);
  Scan();
  enabled_ = true;
  stats_.enabled = true;
  stats_.budget = budget_;
  writer_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

void DiskTier::Scan() {
  struct Found {
    uint64_t key;
    uint64_t bytes;
    fs::file_time_type mtime;
    bool sliding;
  };
  std::vector<Found> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_ + "/blocks", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string path = it->path().string();
    const std::string name = it->path().filename().string();
    if (IsTempFileName(name)) {  // a write that never finished (crash): never adopted
      fs::remove(it->path(), ec);
      continue;
    }
    uint64_t key = 0;
    if (it->path().extension() != ".kvb" || !ParseKey(it->path().stem().string(), &key)) {
      Quarantine(path, "unexpected file name");
      continue;
    }
    BlockFileHeader h{};
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(&h), sizeof(h));
    const uint64_t size = it->file_size(ec);
    Status st = in.gcount() == sizeof(h) ? CheckBlockHeader(id_, h, size)
                                         : DataLoss("shorter than its header");
    if (st.ok() && h.key != key) st = DataLoss("file name and header key differ");
    if (!st.ok()) {
      Quarantine(path, st.message());
      continue;
    }
    found.push_back({key, size, it->last_write_time(ec), BlockFileHasSliding(id_, h)});
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  std::lock_guard<std::mutex> lock(mu_);
  for (const Found& f : found) Adopt(f.key, f.bytes, f.sliding);
  EnforceBudget();
  if (!found.empty()) {
    LOG_INFO("KV disk tier %s: adopted %zu blocks (%.1f MiB)", dir_.c_str(), found.size(),
             stats_.bytes / 1048576.0);
  }
}

void DiskTier::Adopt(uint64_t key, uint64_t bytes, bool sliding) {
  auto it = index_.find(key);
  if (it != index_.end()) {  // rewritten (with its sliding part)
    stats_.bytes += bytes - it->second.bytes;
    it->second.bytes = bytes;
    it->second.sliding = sliding;
    lru_.splice(lru_.end(), lru_, it->second.lru);
    return;
  }
  lru_.push_back(key);
  index_[key] = {bytes, std::prev(lru_.end()), sliding};
  stats_.bytes += bytes;
  stats_.files = index_.size();
}

void DiskTier::EnforceBudget() {
  auto it = lru_.begin();
  while (stats_.bytes > budget_ && it != lru_.end()) {
    const uint64_t key = *it;
    if (protected_.count(key)) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove(BlockPath(key), ec);
    stats_.bytes -= index_[key].bytes;
    index_.erase(key);
    it = lru_.erase(it);
    ++stats_.evictions;
  }
  stats_.files = index_.size();
}

void DiskTier::Quarantine(const std::string& path, const std::string& why) {
  std::error_code ec;
  const std::string dest = dir_ + "/quarantine/" + fs::path(path).filename().string();
  fs::rename(path, dest, ec);
  if (ec) fs::remove(path, ec);
  LOG_WARN("KV cache file %s quarantined: %s", path.c_str(), why.c_str());
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.quarantined;
}

bool DiskTier::Has(uint64_t key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.count(key) > 0;
}

bool DiskTier::HasSliding(uint64_t key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  return it != index_.end() && it->second.sliding;
}

Status DiskTier::Load(uint64_t key, uint64_t parent, const int32_t* tokens, int32_t block,
                      bool* had_sliding) {
  const std::string path = BlockPath(key);
  thread_local std::vector<uint8_t> buf;  // reused: blocks are all the same size
  Status st = ReadFileInto(path, &buf);
  if (st.ok()) {
    st = DecodeBlock(id_, buf.data(), buf.size(), key, parent, tokens, pool_, block, had_sliding);
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (st.ok()) {
    ++stats_.loads;
    if (it != index_.end()) lru_.splice(lru_.end(), lru_, it->second.lru);
    return st;
  }
  if (it != index_.end()) {
    stats_.bytes -= it->second.bytes;
    lru_.erase(it->second.lru);
    index_.erase(it);
    stats_.files = index_.size();
  }
  if (st.code() != StatusCode::kIo) {
    mu_.unlock();
    Quarantine(path, st.message());
    mu_.lock();
  }
  return st;
}

void DiskTier::EnqueueBlock(int32_t block, uint64_t key, uint64_t parent, const int32_t* tokens,
                            bool with_sliding) {
  if (!enabled_) return;
  with_sliding = with_sliding || !id_.layout.has_sliding();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto q = queued_.find(key); q != queued_.end()) {
      q->second.wanted = true;  // wanted again (it may have been cancelled by Remove)
      if (!with_sliding || q->second.sliding) return;
    } else if (auto e = index_.find(key); e != index_.end()) {
      if (!with_sliding || e->second.sliding) return;
    }
    // New, or on disk (or queued) without the sliding part that is wanted now: written again.
    if (pending_bytes_ + BlockFileBytes(id_, with_sliding) > kMaxPendingBytes) {
      ++stats_.writes_skipped;  // the writer is behind: the block stays cached in RAM only
      return;
    }
  }
  // The file image is taken now (the block is full, so immutable), so a pending write never
  // holds a pool block: RAM is not tied up by a slow disk.
  Job job;
  job.key = key;
  job.sliding = with_sliding;
  job.bytes = EncodeBlock(id_, pool_, block, key, parent, tokens, with_sliding);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Queued& q = queued_[key];
    ++q.jobs;
    q.wanted = true;
    q.sliding = q.sliding || with_sliding;
    pending_bytes_ += job.bytes.size();
    queue_.push_back(std::move(job));
    ++stats_.pending_writes;
  }
  cv_.notify_one();
}

void DiskTier::EnqueueFile(const std::string& relative_path, std::string contents) {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job job;
    job.kind = Job::Kind::kFile;
    job.path = dir_ + "/" + relative_path;
    job.contents = std::move(contents);
    queue_.push_back(std::move(job));
    ++stats_.pending_writes;
  }
  cv_.notify_one();
}

void DiskTier::Remove(uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto q = queued_.find(key); q != queued_.end()) q->second.wanted = false;  // cancel
  auto it = index_.find(key);
  if (it == index_.end()) return;
  std::error_code ec;
  fs::remove(BlockPath(key), ec);
  stats_.bytes -= it->second.bytes;
  lru_.erase(it->second.lru);
  index_.erase(it);
  stats_.files = index_.size();
}

void DiskTier::RemoveAll() {
  if (!enabled_) return;
  Flush();
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  for (const auto& [key, entry] : index_) fs::remove(BlockPath(key), ec);
  index_.clear();
  lru_.clear();
  stats_.bytes = 0;
  stats_.files = 0;
}

void DiskTier::RemoveFile(const std::string& relative_path) {
  if (!enabled_) return;
  Flush();  // a queued write of the same file must not resurrect it
  std::error_code ec;
  fs::remove(dir_ + "/" + relative_path, ec);
}

void DiskTier::Protect(uint64_t key, bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  if (on) {
    ++protected_[key];
  } else if (auto it = protected_.find(key); it != protected_.end() && --it->second <= 0) {
    protected_.erase(it);
  }
}

void DiskTier::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

DiskTierStats DiskTier::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void DiskTier::WriteFailed(const Status& st) {
  ++stats_.write_errors;
  const uint64_t now = NowMs();
  if (now - last_error_log_ms_ > 10000) {  // at most one warning per 10 s
    last_error_log_ms_ = now;
    LOG_WARN("KV disk tier write failed (serving continues from RAM): %s", st.message().c_str());
  }
}

void DiskTier::WriterLoop() {
  constexpr size_t kBatch = 64;  // block files per filesystem sync
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    // Consecutive block jobs are written together (WriteFilesAtomic: two syncs for the batch);
    // a session record is written on its own, in order.
    std::vector<Job> jobs;
    do {
      jobs.push_back(std::move(queue_.front()));
      queue_.pop_front();
    } while (jobs.back().kind == Job::Kind::kBlock && jobs.size() < kBatch && !queue_.empty() &&
             queue_.front().kind == Job::Kind::kBlock);
    writing_ = true;
    lock.unlock();
    if (jobs[0].kind == Job::Kind::kFile) {
      Status st = WriteFileAtomic(jobs[0].path, jobs[0].contents.data(), jobs[0].contents.size());
      lock.lock();
      if (!st.ok()) WriteFailed(st);
    } else {
      std::vector<FileWrite> files;
      std::error_code ec;
      for (const Job& job : jobs) {
        const std::string path = BlockPath(job.key);
        fs::create_directories(fs::path(path).parent_path(), ec);
        files.push_back({path, job.bytes.data(), job.bytes.size()});
      }
      std::vector<Status> st = WriteFilesAtomic(files);
      lock.lock();
      for (size_t i = 0; i < jobs.size(); ++i) {
        const Job& job = jobs[i];
        pending_bytes_ -= job.bytes.size();
        auto q = queued_.find(job.key);
        const bool wanted = q->second.wanted;  // false: removed while it was being written
        if (--q->second.jobs == 0) queued_.erase(q);
        if (!st[i].ok()) {
          WriteFailed(st[i]);
        } else if (!wanted) {
          fs::remove(files[i].path, ec);
        } else {
          Adopt(job.key, job.bytes.size(), job.sliding);
          ++stats_.writes;
        }
      }
      EnforceBudget();
    }
    stats_.pending_writes -= jobs.size();
    writing_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace semantic::kv

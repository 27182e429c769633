// Prefix reuse, publication, sessions and statistics over the pool and the disk tier.
#include "kv/prefix_cache.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "base/log.h"
#include "kv/block_key.h"

namespace semantic::kv {

namespace fs = std::filesystem;

namespace {
std::string SessionPath(const std::string& id) { return "agents/" + id + ".json"; }
}  // namespace

PrefixCache::PrefixCache(KvPool& pool, const BlockFileIdentity& id,
                         const PrefixCacheOptions& options)
    : pool_(pool), id_(id), options_(options), disk_(pool, id) {
  root_ = RootKey(id.model_fingerprint, options.salt);
}

PrefixCache::~PrefixCache() { Flush(); }

Status PrefixCache::Open() {
  Status st = disk_.Open(options_.cache_dir, options_.disk_budget);
  if (!st.ok() || !disk_.enabled()) return st;
  std::error_code ec;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = fs::directory_iterator(disk_.dir() + "/agents", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (IsTempFileName(it->path().filename().string())) {
      fs::remove(it->path(), ec);
      continue;
    }
    auto text = ReadWholeFile(path);
    Expected<AgentSession> s =
        text.ok()
            ? AgentSession::FromJson(std::string(text->begin(), text->end()), id_.model_fingerprint)
            : Expected<AgentSession>(text.status());
    if (s.ok() && it->path().filename().string() != s->id + ".json") {
      s = DataLoss("file name and session id differ");
    }
    if (!s.ok()) {
      LOG_WARN("agent session %s quarantined: %s", path.c_str(), s.status().message().c_str());
      fs::rename(path, disk_.dir() + "/quarantine/" + it->path().filename().string(), ec);
      continue;
    }
    AgentSession& session = sessions_[s->id] = std::move(*s);
    if (session.Held(UnixMs())) PinBlocks(session, true);
  }
  if (!sessions_.empty()) LOG_INFO("KV cache: %zu agent sessions restored", sessions_.size());
  return Status::Ok();
}

uint64_t PrefixCache::RootFor(std::string_view salt) const {
  if (salt.empty()) return root_;
  std::string combined = options_.salt;
  combined += '\0';
  combined += salt;
  return RootKey(id_.model_fingerprint, combined);
}

bool PrefixCache::NextOnDisk(const std::vector<int32_t>& tokens, int max_tokens,
                             const std::vector<uint64_t>& keys, uint64_t root) const {
  if (root == 0) root = root_;
  const int bt = pool_.layout().block_tokens;
  const size_t i = keys.size();
  if (static_cast<int>((i + 1) * bt) > std::min<int>(max_tokens, tokens.size())) return false;
  const uint64_t parent = keys.empty() ? root : keys.back();
  return disk_.Has(BlockKey(parent, tokens.data() + i * bt, bt));
}

PrefixMatch PrefixCache::Acquire(const std::vector<int32_t>& tokens, int max_tokens, SequenceKv* kv,
                                 std::vector<uint64_t>* keys, bool ram_only, uint64_t root) {
  if (root == 0) root = root_;
  PrefixMatch m;
  const int bt = pool_.layout().block_tokens;
  const int max_blocks = std::max(0, std::min<int>(max_tokens, tokens.size())) / bt;
  const int first = static_cast<int>(keys->size());
  uint64_t parent = keys->empty() ? root : keys->back();
  uint64_t load_failures = 0;
  bool stopped_for_disk = false;
  const bool sliding = pool_.layout().has_sliding();
  std::vector<bool> from_disk;  // per block added here
  for (int i = first; i < max_blocks; ++i) {
    const int32_t* t = tokens.data() + static_cast<size_t>(i) * bt;
    const uint64_t key = BlockKey(parent, t, bt);
    int32_t b = pool_.Lookup(key);
    bool disk = false;
    if (b >= 0) {
      ++m.ram_blocks;
    } else if (ram_only) {
      stopped_for_disk = true;
      break;
    } else if (disk_.Has(key)) {
      auto fresh = pool_.Allocate();
      if (!fresh.ok()) break;
      bool had_sliding = true;
      Status st = disk_.Load(key, parent, t, *fresh, &had_sliding);
      if (!st.ok()) {
        if (sliding) pool_.ReleaseSliding(*fresh);
        pool_.Release(*fresh);
        ++load_failures;
        break;
      }
      // A file without the sliding part: the part goes (released while unpublished, so freed).
      if (sliding && !had_sliding) pool_.ReleaseSliding(*fresh);
      pool_.Publish(*fresh, key);
      // A loaded part stays cached; the ones this sequence needs are held below.
      if (sliding && had_sliding) pool_.ReleaseSliding(*fresh);
      b = *fresh;
      disk = true;
      ++m.disk_blocks;
    } else {
      break;
    }
    kv->blocks.push_back(b);
    keys->push_back(key);
    from_disk.push_back(disk);
    parent = key;
  }
  kv->n_tokens = static_cast<int>(keys->size()) * bt;
  if (sliding && !ram_only) ReloadSlidingParts(tokens, kv, *keys, root);
  if (sliding) {
    // Exact prefixes only (kv_pool.h: UsablePrefixBlocks): shorten the match to the longest
    // boundary whose last window still has its sliding parts, then hold those. A part can vanish
    // between the check and the hold (another thread allocated): check again.
    for (;;) {
      const int n = UsablePrefixBlocks(pool_.layout(), static_cast<int>(kv->blocks.size()),
                                       [&](int i) {
                                         return (i >= kv->sliding_lo && i < kv->sliding_hi) ||
                                                pool_.HasSliding(kv->blocks[i]);
                                       });
      for (int i = std::max(n, first); i < static_cast<int>(kv->blocks.size()); ++i) {
        --(from_disk[i - first] ? m.disk_blocks : m.ram_blocks);  // not a hit after all
      }
      kv->Truncate(pool_, n);
      keys->resize(kv->blocks.size());
      if (kv->HoldSliding(pool_, pool_.layout().sliding_from_block(kv->n_tokens))) break;
    }
  }
  m.tokens = std::max(0, static_cast<int>(keys->size()) - first) * bt;
  std::lock_guard<std::mutex> lock(mu_);
  counters_.ram_hits += m.ram_blocks;
  counters_.disk_hits += m.disk_blocks;
  if (!stopped_for_disk) {  // a RAM-only pass that stops is continued by a full pass
    counters_.misses += std::max(0, max_blocks - static_cast<int>(keys->size()));
  }
  counters_.disk_load_failures += load_failures;
  return m;
}

void PrefixCache::ReloadSlidingParts(const std::vector<int32_t>& tokens, SequenceKv* kv,
                                     const std::vector<uint64_t>& keys, uint64_t root) {
  // Blocks found in RAM whose parts were evicted there, though their files carry them: the
  // parts the whole match needs are read back (into a scratch block whose part then moves over).
  const KvLayout& l = pool_.layout();
  const int k = static_cast<int>(kv->blocks.size());
  for (int i = l.sliding_from_block(k * l.block_tokens); i < k; ++i) {
    const int32_t b = kv->blocks[i];
    if ((i >= kv->sliding_lo && i < kv->sliding_hi) || pool_.HasSliding(b) ||
        !disk_.HasSliding(keys[i])) {
      continue;
    }
    auto scratch = pool_.Allocate();
    if (!scratch.ok()) break;
    bool had_sliding = false;
    const Status st = disk_.Load(keys[i], i == 0 ? root : keys[i - 1],
                                 tokens.data() + static_cast<size_t>(i) * l.block_tokens,
                                 *scratch, &had_sliding);
    if (st.ok() && had_sliding && pool_.MoveSliding(*scratch, b)) {
      pool_.ReleaseSliding(b);  // cached with its block; held below if the match stands
    } else {
      pool_.ReleaseSliding(*scratch);  // unpublished: freed
    }
    pool_.Release(*scratch);
    if (!st.ok()) break;
  }
}

void PrefixCache::Publish(const std::vector<int32_t>& tokens, SequenceKv* kv,
                          std::vector<uint64_t>* keys, size_t* n_published, uint64_t root) {
  if (root == 0) root = root_;
  const int bt = pool_.layout().block_tokens;
  const size_t full = static_cast<size_t>(kv->n_tokens / bt);
  ExtendKeys(root, tokens, kv->n_tokens, bt, keys);
  for (size_t j = *n_published; j < full; ++j) {
    const uint64_t key = (*keys)[j];
    int32_t b = kv->blocks[j];
    // Whether this sequence holds the block's sliding part (always, for blocks it just filled).
    const bool sliding = pool_.layout().has_sliding();
    const bool holds = sliding && static_cast<int>(j) >= kv->sliding_lo &&
                       static_cast<int>(j) < kv->sliding_hi;
    if (!pool_.Publish(b, key)) {
      // Another sequence computed the same block first: share that one, free ours. If this
      // sequence holds the block's sliding part and the other block lost its own, ours moves
      // over (the same key: the same contents).
      const int32_t other = pool_.Lookup(key);
      if (other >= 0 && (!holds || pool_.RetainSliding(other))) {
        if (holds) pool_.ReleaseSliding(b);
        pool_.Release(b);
        kv->blocks[j] = b = other;
      } else if (other >= 0 && pool_.MoveSliding(b, other)) {
        pool_.Release(b);
        kv->blocks[j] = b = other;
      } else if (other >= 0) {
        pool_.Release(other);
      }
    }
    // With sliding layers a block is written when the sequence lets its part go: without the
    // part when it moves past the block (DropSlidingBehind), with it when it ends (PersistHeld).
    if (options_.persist && !sliding) {
      disk_.EnqueueBlock(b, key, j == 0 ? root : (*keys)[j - 1],
                         tokens.data() + j * static_cast<size_t>(bt));
    }
  }
  *n_published = std::max(*n_published, full);
}

void PrefixCache::DropSlidingBehind(const std::vector<int32_t>& tokens, SequenceKv* kv,
                                    const std::vector<uint64_t>& keys, uint64_t root,
                                    int keep_tokens) {
  const KvLayout& l = pool_.layout();
  if (!l.has_sliding()) return;
  if (root == 0) root = root_;
  const int from = std::min(l.sliding_from_block(kv->n_tokens), kv->sliding_hi);
  const int n = std::min<int>(from, keys.size());
  const int keep_from = keep_tokens > 0 ? l.sliding_from_block(keep_tokens) : n;
  for (int i = kv->sliding_lo; options_.persist && i < n; ++i) {
    disk_.EnqueueBlock(kv->blocks[i], keys[i], i == 0 ? root : keys[i - 1],
                       tokens.data() + static_cast<size_t>(i) * l.block_tokens,
                       /*with_sliding=*/i >= keep_from && i * l.block_tokens < keep_tokens);
  }
  kv->DropSlidingBehind(pool_);
}

void PrefixCache::PersistHeld(const std::vector<int32_t>& tokens, const SequenceKv& kv,
                              const std::vector<uint64_t>& keys, uint64_t root) {
  const KvLayout& l = pool_.layout();
  if (!l.has_sliding() || !options_.persist) return;
  if (root == 0) root = root_;
  const int n = std::min<int>(kv.sliding_hi, keys.size());
  for (int i = kv.sliding_lo; i < n; ++i) {
    disk_.EnqueueBlock(kv.blocks[i], keys[i], i == 0 ? root : keys[i - 1],
                       tokens.data() + static_cast<size_t>(i) * l.block_tokens,
                       /*with_sliding=*/true);
  }
}

void PrefixCache::BeginRequest(const std::string& agent_id) {
  if (agent_id.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++active_[agent_id];
}

void PrefixCache::EndRequest(const std::string& agent_id, const std::vector<uint64_t>& keys,
                             int n_tokens, int prompt_tokens, int cached_tokens, int64_t hold_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.prompt_tokens += prompt_tokens;
  counters_.cached_tokens += cached_tokens;
  if (agent_id.empty()) return;
  if (auto it = active_.find(agent_id); it != active_.end() && --it->second <= 0) {
    active_.erase(it);
  }
  const int64_t now = UnixMs();
  auto [it, fresh] = sessions_.try_emplace(agent_id);
  AgentSession& s = it->second;
  if (fresh) {
    s.id = agent_id;
    s.created_ms = now;
    s.ttl_ms = options_.default_ttl_ms;
  }
  s.keys = keys;
  s.n_tokens = n_tokens;
  s.last_use_ms = now;
  ++s.requests;
  s.prompt_tokens += prompt_tokens;
  s.cached_tokens += cached_tokens;
  if (hold_ms > 0) s.hold_until_ms = std::max(s.hold_until_ms, now + hold_ms);
  PinBlocks(s, s.Held(now));  // re-taken over the new chain
  SaveSession(s);
  EnforceAgentLimit();
}

void PrefixCache::EvictFromRam(const AgentSession& s, const std::unordered_set<uint64_t>& keep) {
  for (uint64_t key : s.keys) {
    if (!keep.count(key) && (disk_.Has(key) || !disk_.enabled())) pool_.Forget(key);
  }
}

void PrefixCache::EnforceAgentLimit() {
  const int limit = options_.max_agents_in_memory;
  if (limit <= 0) return;
  const int64_t now = UnixMs();
  std::vector<const AgentSession*> hot, held;  // sessions with a block in RAM
  for (const auto& [id, s] : sessions_) {
    const bool in_ram = std::any_of(s.keys.begin(), s.keys.end(),
                                    [&](uint64_t key) { return pool_.Contains(key); });
    if (in_ram) (s.Held(now) ? held : hot).push_back(&s);
  }
  if (static_cast<int>(hot.size()) <= limit) return;
  std::sort(hot.begin(), hot.end(), [](const AgentSession* a, const AgentSession* b) {
    return a->last_use_ms > b->last_use_ms;  // most recent first
  });
  // The most recent `limit` stay, and so do running agents (their blocks are in use).
  std::vector<const AgentSession*> victims;
  std::unordered_set<uint64_t> keep;  // blocks of sessions that stay in RAM
  for (size_t i = 0; i < hot.size(); ++i) {
    const bool stays = static_cast<int>(i) < limit || active_.count(hot[i]->id);
    if (!stays) {
      victims.push_back(hot[i]);
      continue;
    }
    keep.insert(hot[i]->keys.begin(), hot[i]->keys.end());
  }
  for (const AgentSession* s : held) keep.insert(s->keys.begin(), s->keys.end());
  for (const AgentSession* s : victims) {
    LOG_DEBUG("agent %s leaves RAM (agent.max_agents_in_memory = %d)", s->id.c_str(), limit);
    EvictFromRam(*s, keep);
  }
}

void PrefixCache::SaveSession(const AgentSession& s) {
  disk_.EnqueueFile(SessionPath(s.id), s.ToJson(id_.model_fingerprint));
}

void PrefixCache::PinBlocks(AgentSession& s, bool on) {
  if (auto it = pinned_blocks_.find(s.id); it != pinned_blocks_.end()) {
    for (int32_t b : it->second.sliding) pool_.ReleaseSliding(b);
    for (int32_t b : it->second.blocks) pool_.Release(b);
    for (uint64_t key : it->second.keys) disk_.Protect(key, false);
    pinned_blocks_.erase(it);
  }
  if (!on) return;
  HeldBlocks& held = pinned_blocks_[s.id];
  held.keys = s.keys;
  // With sliding layers the parts of the last window are held too, so the session's whole
  // context stays restorable exactly (kv_pool.h: UsablePrefixBlocks).
  const KvLayout& l = pool_.layout();
  const int tail = l.sliding_from_block(static_cast<int>(s.keys.size()) * l.block_tokens);
  for (size_t i = 0; i < s.keys.size(); ++i) {
    const uint64_t key = s.keys[i];
    disk_.Protect(key, true);
    const int32_t b = pool_.Lookup(key);
    if (b < 0) continue;
    held.blocks.push_back(b);
    if (l.has_sliding() && static_cast<int>(i) >= tail && pool_.RetainSliding(b)) {
      held.sliding.push_back(b);
    }
  }
}

AgentInfo PrefixCache::Describe(const AgentSession& s) {
  AgentInfo info;
  info.session = s;
  const KvLayout& l = pool_.layout();
  for (uint64_t key : s.keys) {
    if (pool_.Contains(key)) {
      info.ram_bytes += l.global_block_bytes() +
                        (pool_.ContainsSliding(key) ? l.sliding_block_bytes() : 0);
    }
    info.blocks_in_ram += pool_.Contains(key) ? 1 : 0;
    info.blocks_on_disk += disk_.Has(key) ? 1 : 0;
  }
  info.active = active_.count(s.id) > 0;
  return info;
}

std::vector<AgentInfo> PrefixCache::ListAgents() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AgentInfo> out;
  for (const auto& [id, s] : sessions_) out.push_back(Describe(s));
  return out;
}

std::optional<AgentInfo> PrefixCache::GetAgent(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return Describe(it->second);
}

AgentInfo PrefixCache::PutAgent(const std::string& id, std::optional<bool> pinned,
                                std::optional<int64_t> ttl_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = sessions_.try_emplace(id);
  AgentSession& s = it->second;
  if (fresh) {
    s.id = id;
    s.created_ms = s.last_use_ms = UnixMs();
    s.ttl_ms = options_.default_ttl_ms;
  }
  if (ttl_ms) s.ttl_ms = *ttl_ms;
  if (pinned && *pinned != s.pinned) {
    s.pinned = *pinned;
    PinBlocks(s, s.Held(UnixMs()));  // unpinning keeps a cache_control hold
  }
  SaveSession(s);
  return Describe(s);
}

void PrefixCache::DropSessionBlocks(const AgentSession& s, bool from_disk) {
  std::set<uint64_t> shared;
  for (const auto& [id, other] : sessions_) {
    if (id != s.id) shared.insert(other.keys.begin(), other.keys.end());
  }
  for (uint64_t key : s.keys) {
    if (shared.count(key)) continue;
    pool_.Forget(key);
    if (from_disk) disk_.Remove(key);
  }
}

bool PrefixCache::DeleteAgent(const std::string& id, bool evict_only) {
  // Pending writes hold their blocks; let them finish so the blocks can be dropped (and, for
  // evict_only, so the blocks leaving RAM are on disk first).
  disk_.Flush();
  std::unique_lock<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  AgentSession& s = it->second;
  PinBlocks(s, false);
  if (evict_only) {
    EvictFromRam(it->second, {});
    it->second.pinned = false;
    it->second.hold_until_ms = 0;
    SaveSession(it->second);
    return true;
  }
  DropSessionBlocks(s, /*from_disk=*/true);
  sessions_.erase(it);
  lock.unlock();
  disk_.RemoveFile(SessionPath(id));
  return true;
}

Status PrefixCache::ForkAgent(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(from);
  if (it == sessions_.end()) return NotFound("no agent '" + from + "'");
  if (sessions_.count(to)) return InvalidArgument("agent '" + to + "' already exists");
  AgentSession copy = it->second;
  copy.id = to;
  copy.created_ms = copy.last_use_ms = UnixMs();
  copy.pinned = false;
  copy.hold_until_ms = 0;
  copy.requests = copy.cached_tokens = copy.prompt_tokens = 0;
  SaveSession(sessions_[to] = std::move(copy));
  return Status::Ok();
}

void PrefixCache::Clear() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, s] : sessions_) {
      PinBlocks(s, false);
      ids.push_back(id);
    }
    sessions_.clear();
  }
  disk_.Flush();
  pool_.ForgetAll();
  disk_.RemoveAll();
  for (const auto& id : ids) disk_.RemoveFile(SessionPath(id));
}

int PrefixCache::ExpireSessions() {
  std::vector<std::string> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = UnixMs();
    for (auto& [id, s] : sessions_) {
      if (!s.Held(now) && pinned_blocks_.count(id)) PinBlocks(s, false);  // a hold ran out
      if (s.ttl_ms > 0 && !s.Held(now) && !active_.count(id) && now - s.last_use_ms > s.ttl_ms) {
        expired.push_back(id);
      }
    }
  }
  for (const auto& id : expired) DeleteAgent(id, false);
  return static_cast<int>(expired.size());
}

void PrefixCache::Flush() { disk_.Flush(); }

std::vector<AgentUsage> PrefixCache::RecentAgentUsage(size_t max_agents) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const AgentSession*> all;
  for (const auto& [id, s] : sessions_) all.push_back(&s);
  const size_t n = std::min(max_agents, all.size());
  std::partial_sort(
      all.begin(), all.begin() + n, all.end(), [](const AgentSession* a, const AgentSession* b) {
        return a->last_use_ms != b->last_use_ms ? a->last_use_ms > b->last_use_ms : a->id < b->id;
      });
  std::vector<AgentUsage> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({all[i]->id, all[i]->requests, all[i]->prompt_tokens, all[i]->cached_tokens});
  }
  return out;
}

PrefixCacheStats PrefixCache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  PrefixCacheStats s = counters_;
  const uint64_t bb = id_.layout.block_bytes();
  s.block_bytes = bb;
  s.pool_blocks = pool_.n_blocks();
  s.pool_cached = pool_.n_cached();
  s.pool_in_use = pool_.n_blocks() - pool_.n_free_blocks();
  s.ram_evictions = pool_.evictions();
  s.ram_bytes_total = pool_.bytes();
  if (id_.layout.has_sliding()) {
    // Blocks hold the global layers; the sliding layers' parts are counted by slot.
    const uint64_t gb = id_.layout.global_block_bytes(), sb = id_.layout.sliding_block_bytes();
    s.sliding_slots = pool_.n_sliding_slots();
    s.sliding_in_use = pool_.n_sliding_in_use();
    s.sliding_cached = pool_.n_sliding_cached();
    s.sliding_evictions = pool_.sliding_evictions();
    s.ram_bytes_in_use = gb * s.pool_in_use + sb * s.sliding_in_use;
    s.ram_bytes_cached = gb * s.pool_cached + sb * s.sliding_cached;
  } else {
    s.ram_bytes_in_use = bb * s.pool_in_use;
    s.ram_bytes_cached = bb * s.pool_cached;
  }
  s.sessions = static_cast<int>(sessions_.size());
  for (const auto& [id, session] : sessions_) {
    s.sessions_pinned += session.pinned ? 1 : 0;
    bool hot = false;
    for (uint64_t key : session.keys) {
      if (pool_.Contains(key)) {
        hot = true;
        break;
      }
    }
    s.sessions_hot += hot ? 1 : 0;
  }
  s.disk = disk_.Stats();
  return s;
}

}  // namespace semantic::kv

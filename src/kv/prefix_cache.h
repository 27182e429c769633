// The KV cache as the engine and the agent API see it (DESIGN.md §3): prefix reuse over the block
// pool's index, the disk tier behind it, and agent sessions. The executor calls Acquire when a
// sequence starts, Publish after every forward, and EndRequest when it finishes; the HTTP
// threads call the session operations. All methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "kv/agent_sessions.h"
#include "kv/disk_tier.h"
#include "kv/kv_pool.h"

namespace semantic::kv {

struct PrefixCacheOptions {
  std::string cache_dir;        // empty: no disk tier
  uint64_t disk_budget = 0;     // bytes; 0: no disk tier
  std::string salt;             // separates tenants that must not share blocks
  int64_t default_ttl_ms = 0;   // new sessions' TTL (0: never expire)
  bool persist = true;          // write full blocks to the disk tier
  // agent.max_agents_in_memory: unheld sessions with blocks in RAM; beyond it the least
  // recently used ones leave RAM (to the disk tier when there is one). 0: no limit.
  int max_agents_in_memory = 0;
};

// One session's usage counters, for per-agent metrics.
struct AgentUsage {
  std::string id;
  uint64_t requests = 0;
  uint64_t prompt_tokens = 0;
  uint64_t cached_tokens = 0;
};

// Blocks a sequence starts with.
struct PrefixMatch {
  int tokens = 0;        // positions covered (a multiple of block_tokens)
  int ram_blocks = 0;
  int disk_blocks = 0;
};

struct PrefixCacheStats {
  uint64_t prompt_tokens = 0;      // prompt tokens of finished requests
  uint64_t cached_tokens = 0;      // of those, served from cache
  uint64_t ram_hits = 0, disk_hits = 0, misses = 0;  // blocks looked up at admission
  uint64_t disk_load_failures = 0;
  int pool_blocks = 0, pool_in_use = 0, pool_cached = 0;
  uint64_t ram_bytes_in_use = 0, ram_bytes_cached = 0, block_bytes = 0;
  uint64_t ram_evictions = 0;
  uint64_t ram_bytes_total = 0;  // the pool's size
  // Sliding-window layouts: slots for the sliding layers' parts, and how many are in use, cached
  // (kept with a published block) and were evicted. 0 without sliding layers.
  int sliding_slots = 0, sliding_in_use = 0, sliding_cached = 0;
  uint64_t sliding_evictions = 0;
  int sessions = 0, sessions_hot = 0, sessions_pinned = 0;
  DiskTierStats disk;
};

// A session as the agent API reports it.
struct AgentInfo {
  AgentSession session;
  int blocks_in_ram = 0;
  uint64_t ram_bytes = 0;  // KV bytes of those blocks (with sliding layers: parts still held)
  int blocks_on_disk = 0;
  bool active = false;  // a request of this agent is running
};

class PrefixCache {
 public:
  PrefixCache(KvPool& pool, const BlockFileIdentity& id, const PrefixCacheOptions& options);
  ~PrefixCache();

  // Opens the disk tier and loads session records; a failure disables the tier (the message
  // is returned for the log) but the cache keeps working in RAM.
  Status Open();

  uint64_t root() const { return root_; }
  // The chain root for requests with their own cache salt (blocks are shared only between
  // requests with the same salt); "" gives root(). The methods below take a root; 0 = root().
  uint64_t RootFor(std::string_view salt) const;
  const KvPool& pool() const { return pool_; }
  bool disk_enabled() const { return disk_.enabled(); }

  // Extends `kv` (whose blocks are the ones named by `keys`, possibly none) with the longest
  // cached continuation of `tokens`, at most `max_tokens` positions in all: from RAM only, or
  // from RAM and disk. The result counts only the blocks this call added.
  PrefixMatch Acquire(const std::vector<int32_t>& tokens, int max_tokens, SequenceKv* kv,
                      std::vector<uint64_t>* keys, bool ram_only = false, uint64_t root = 0);
  // Whether the block after `keys` (within max_tokens) is on disk: worth a background restore.
  bool NextOnDisk(const std::vector<int32_t>& tokens, int max_tokens,
                  const std::vector<uint64_t>& keys, uint64_t root = 0) const;
  // Publishes the newly full blocks of a sequence whose first kv->n_tokens positions hold
  // `tokens`, deduplicating against blocks others published, and queues them for disk.
  void Publish(const std::vector<int32_t>& tokens, SequenceKv* kv, std::vector<uint64_t>* keys,
               size_t* n_published, uint64_t root = 0);
  // Sliding-window layouts (no-ops otherwise). After a forward, once published: releases the
  // sliding parts of blocks no later position reads, queueing those blocks for disk without
  // them — except the window before `keep_tokens` (the prompt's last block boundary: where the
  // same prompt sent again is restored), written with them. Before a sequence lets its blocks go
  // (end, preemption): queues the blocks whose parts it still holds — its last window — for
  // disk with them, so a restore at either point is exact.
  void DropSlidingBehind(const std::vector<int32_t>& tokens, SequenceKv* kv,
                         const std::vector<uint64_t>& keys, uint64_t root = 0,
                         int keep_tokens = 0);
  void PersistHeld(const std::vector<int32_t>& tokens, const SequenceKv& kv,
                   const std::vector<uint64_t>& keys, uint64_t root = 0);
  // Records the end of a request: updates the agent's session (if any) and usage counters.
  // hold_ms > 0 (Anthropic cache_control): the session's blocks stay in RAM (and on disk) for
  // at least that long, as if pinned.
  void EndRequest(const std::string& agent_id, const std::vector<uint64_t>& keys, int n_tokens,
                  int prompt_tokens, int cached_tokens, int64_t hold_ms = 0);
  void BeginRequest(const std::string& agent_id);

  // Agent API.
  std::vector<AgentInfo> ListAgents();
  std::optional<AgentInfo> GetAgent(const std::string& id);
  // Creates an empty session (or updates pin/ttl of an existing one).
  AgentInfo PutAgent(const std::string& id, std::optional<bool> pinned,
                     std::optional<int64_t> ttl_ms);
  // evict_only: drop the agent's blocks from RAM (they stay on disk) and keep the session.
  // Otherwise forget the session and delete its blocks that no other session uses.
  bool DeleteAgent(const std::string& id, bool evict_only);
  // Copies `from`'s block chain to a new session `to` (blocks are shared; both grow apart).
  Status ForkAgent(const std::string& from, const std::string& to);
  // Drops every session and cached block (RAM and disk); blocks in use stay until released.
  void Clear();
  // Expires sessions past their TTL; returns how many.
  int ExpireSessions();
  // Writes every pending block and session record.
  void Flush();

  PrefixCacheStats Stats();
  // Usage of the `max_agents` most recently used sessions, most recent first.
  std::vector<AgentUsage> RecentAgentUsage(size_t max_agents);

 private:
  // For Acquire: reads back from disk the sliding parts of the match's last window that RAM lost.
  void ReloadSlidingParts(const std::vector<int32_t>& tokens, SequenceKv* kv,
                          const std::vector<uint64_t>& keys, uint64_t root);
  void SaveSession(const AgentSession& s);  // requires mu_
  // Holds the session's blocks (RAM references, disk protection) when `on`, after releasing any
  // hold taken before. requires mu_
  void PinBlocks(AgentSession& s, bool on);
  AgentInfo Describe(const AgentSession& s);  // requires mu_
  void DropSessionBlocks(const AgentSession& s, bool from_disk);  // requires mu_
  // Forgets the session's cached RAM blocks that are safe on disk (or all, without a disk
  // tier), except those in `keep`; blocks in use stay. requires mu_
  void EvictFromRam(const AgentSession& s, const std::unordered_set<uint64_t>& keep);
  // Applies options_.max_agents_in_memory after a request ended. requires mu_
  void EnforceAgentLimit();

  KvPool& pool_;
  BlockFileIdentity id_;
  PrefixCacheOptions options_;
  uint64_t root_ = 0;
  DiskTier disk_;

  std::mutex mu_;
  std::map<std::string, AgentSession> sessions_;
  struct HeldBlocks {
    std::vector<uint64_t> keys;  // protected on disk
    std::vector<int32_t> blocks;  // referenced in RAM
    std::vector<int32_t> sliding;  // sliding parts held: the last window (sliding layouts)
  };
  std::map<std::string, HeldBlocks> pinned_blocks_;  // what each pinned or held session holds
  std::map<std::string, int> active_;                          // running requests per agent
  PrefixCacheStats counters_;
};

}  // namespace semantic::kv

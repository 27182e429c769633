// Offline view of a KV cache directory (no model loaded, no server running): what `semantic cache`
// lists, verifies and removes. Layout: <root>/<model fingerprint hex>/{blocks/xx/<key>.kvb,
// agents/<id>.json, quarantine/} as specified in docs/cache-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "kv/agent_sessions.h"

namespace semantic::kv {

struct ModelCacheInfo {
  std::string fingerprint;  // directory name
  std::string dir;
  uint64_t block_files = 0;
  uint64_t block_bytes = 0;
  uint64_t temp_files = 0;
  uint64_t quarantined_files = 0;
  std::vector<AgentSession> sessions;
  std::vector<std::string> bad_sessions;  // session files that do not parse
};

std::vector<ModelCacheInfo> ScanCacheDir(const std::string& root);

struct VerifyResult {
  uint64_t ok = 0;
  uint64_t bad = 0;
  std::vector<std::string> problems;  // "<path>: <why>"
};
// Reads every block file completely and checks it against its own header and directory
// (magic, version, checksums, fingerprint = directory, key = file name = hash of its tokens).
// With `quarantine`, bad files are moved to quarantine/ and temp files deleted.
VerifyResult VerifyCacheDir(const std::string& root, bool quarantine);

// Deletes agent `id`'s session in every model directory, and the block files it alone used.
// Returns the number of sessions removed.
Expected<int> RemoveAgentFromDir(const std::string& root, const std::string& id);
// Deletes every model directory under root (only directories that look like ours).
Expected<int> RemoveAllCaches(const std::string& root);

}  // namespace semantic::kv

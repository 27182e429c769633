// Prefix keys of KV blocks (DESIGN.md §3): key = xxh3(parent key, token ids) with a fixed seed,
// rooted in the model fingerprint and an optional cache salt. Keys are stable across runs and
// machines because they name files on disk; a key never reads as 0 (0 means "unpublished").
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace semantic::kv {

// The key a chain starts from: one model (fingerprint) and one salt (tenant separation).
uint64_t RootKey(uint64_t model_fingerprint, std::string_view salt);

// Key of a full block holding `tokens[0..n)` whose predecessor has key `parent`.
uint64_t BlockKey(uint64_t parent, const int32_t* tokens, int n);

// Keys of the full blocks of `tokens` (n / block_tokens of them), chained from `root`, appended
// to `keys` starting after the ones already there.
void ExtendKeys(uint64_t root, const std::vector<int32_t>& tokens, int n, int block_tokens,
                std::vector<uint64_t>* keys);

std::string KeyHex(uint64_t key);  // 16 lowercase hex digits

}  // namespace semantic::kv

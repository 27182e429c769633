// The prefix cache as the executor drives it, for the KV cache tests: one pool and cache ("a
// server process") and whole requests run against it with deterministic block contents.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv/block_key.h"
#include "kv/kv_pool.h"
#include "kv/prefix_cache.h"
#include "kv_test_util.h"

namespace semantic::kv::testing_util {

constexpr int kBt = 4;  // block_tokens of SmallLayout()

// One sequence as the executor drives it.
struct Seq {
  SequenceKv kv;
  std::vector<uint64_t> keys;
  size_t n_published = 0;
  PrefixMatch match;
};

// A KvPool and a PrefixCache over it: one "server process".
struct Instance {
  Instance(const PrefixCacheOptions& options, int n_blocks = 64)
      : id(SmallIdentity()), pool(id.layout, n_blocks), cache(pool, id, options) {}
  BlockFileIdentity id;
  KvPool pool;
  PrefixCache cache;

  // Admission: the longest cached prefix, leaving at least one prompt token to compute.
  void Admit(const std::vector<int32_t>& tokens, Seq* s) {
    s->match = cache.Acquire(tokens, static_cast<int>(tokens.size()) - 1, &s->kv, &s->keys);
    s->n_published = s->keys.size();
  }
  // "Computes" positions [kv.n_tokens, n) of `tokens`: every block that becomes full gets the
  // pattern of its key, then the sequence publishes.
  void Compute(const std::vector<int32_t>& tokens, int n, Seq* s) {
    ASSERT_TRUE(s->kv.Reserve(pool, n - s->kv.n_tokens).ok());
    std::vector<uint64_t> keys;
    ExtendKeys(cache.root(), tokens, n, kBt, &keys);
    for (size_t j = static_cast<size_t>(s->kv.n_tokens / kBt); j < keys.size(); ++j) {
      FillPattern(pool, s->kv.blocks[j], keys[j]);
    }
    s->kv.n_tokens = n;
    cache.Publish(tokens, &s->kv, &s->keys, &s->n_published);
  }
  // A whole request: admit, compute the rest, finish (the sequence's blocks are released).
  std::vector<uint64_t> Run(const std::vector<int32_t>& tokens, const std::string& agent = "",
                            PrefixMatch* match = nullptr) {
    Seq s;
    cache.BeginRequest(agent);
    Admit(tokens, &s);
    Compute(tokens, static_cast<int>(tokens.size()), &s);
    cache.EndRequest(agent, s.keys, s.kv.n_tokens, static_cast<int>(tokens.size()), s.match.tokens);
    s.kv.Clear(pool);
    if (match) *match = s.match;
    return s.keys;
  }
  int in_use() const { return pool.n_blocks() - pool.n_free(); }
};

}  // namespace semantic::kv::testing_util

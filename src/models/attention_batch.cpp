// Attention for a batch of sequences over the paged KV pool (models::Attention, layers.h): the
// work is cut into items (query tokens x KV head x segment of positions) that the threads take
// largest first, and the segments of long contexts are merged afterwards.
//
// Shared prefixes: sequences that start with the same cached prompt hold the same physical
// blocks (the prefix cache hands out one copy). A segment that lies wholly inside such a shared
// prefix is attended once for the query tokens of all those sequences (one kernels::AttendTile),
// so its K/V rows are read from memory once per step instead of once per sequence. Per token the
// tile's arithmetic is that of a single-token call, so results do not depend on the sharing.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#include "kernels/attention.h"
#include "models/layers.h"

namespace semantic::models {
namespace {

// Contexts longer than this are split into segments of this many positions (rounded to whole
// blocks), attended in parallel and merged. The split depends only on the position count, so a
// sequence's result does not depend on the batch it is in or on the thread count.
constexpr int kSegmentPositions = 1024;

// Query tokens attended together (kernels::AttendTile): consecutive tokens of one sequence, or
// the tokens of several sequences over a shared segment, so each K/V row is loaded once per
// tile instead of once per token. Per token the arithmetic is that of a single-token call, so
// tiling does not change any result.
constexpr int kTileTokens = 16;

struct TokenRange {
  int lo, end;     // positions [lo, end): causal, or the sliding window's last positions
  int n_seg;       // segments (1: the whole range, normalized directly)
  size_t partial;  // offset of its partial outputs if split: [n_kv_heads][n_seg] items
  bool split;      // partial outputs merged afterwards: n_seg > 1, or attention sinks
};

struct Member {
  int arg, t;  // query token t of args[arg]
};

struct AttentionItem {
  int m0, m1;    // query tokens members[m0, m1); all start at the same position of the same KV
  int kvh;       // KV head
  int sgi;       // segment index
  int64_t cost;  // tokens x positions, to hand out the largest items first
};

// Totals over the process (SharedAttentionTotals).
std::atomic<int64_t> g_shared_tiles{0}, g_shared_tokens{0};

// SEMANTIC_SHARED_SEGMENTS=0 (environment) turns the sharing off, for comparisons.
bool SharingEnabled() {
  static const bool on = [] {
    const char* env = std::getenv("SEMANTIC_SHARED_SEGMENTS");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return on;
}

// Query tokens of one tile for GQA groups of `group` query heads (kernels::kMaxTileRows rows).
int TileTokens(int group) { return std::max(1, std::min(kTileTokens, kernels::kMaxTileRows / group)); }

int SegmentLength(const kv::KvLayout& L) {
  return std::max(1, kSegmentPositions / L.block_tokens) * L.block_tokens;
}

// Items that are one token over a whole segment from position 0, regrouped: those of different
// sequences whose segment covers the same physical blocks (and the same layer, head layout and
// scale) become shared tiles of up to `tile_tokens` tokens. Others are kept as they are.
void ShareSegments(const AttentionArgs* args, const std::vector<std::vector<TokenRange>>& ranges,
                   std::vector<Member>& members, std::vector<AttentionItem>& items,
                   AttentionStats* stats) {
  // Key: pool, layer, KV head, segment, heads, scale bits, the segment's last block id. Blocks
  // are compared whole when a group forms.
  using Key = std::tuple<const kv::KvPool*, int, int, int, int, uint32_t, int32_t>;
  std::map<Key, std::vector<size_t>> groups;  // key -> candidate item indices
  for (size_t i = 0; i < items.size(); ++i) {
    const AttentionItem& it = items[i];
    if (it.m1 - it.m0 != 1) continue;
    const Member& m = members[it.m0];
    const AttentionArgs& A = args[m.arg];
    const TokenRange& r = ranges[m.arg][m.t];
    const kv::KvLayout& L = A.pool->layout();
    const int seg_len = SegmentLength(L);
    const int p1 = (it.sgi + 1) * seg_len;
    if (r.lo != 0 || r.end < p1) continue;  // not a whole segment from position 0
    uint32_t scale_bits;
    std::memcpy(&scale_bits, &A.scale, sizeof scale_bits);
    groups[Key{A.pool, A.layer, it.kvh, it.sgi, A.n_head, scale_bits,
               A.seq->blocks[p1 / L.block_tokens - 1]}]
        .push_back(i);
  }
  std::vector<bool> drop(items.size(), false);
  std::vector<AttentionItem> shared;
  for (auto& [key, cand] : groups) {
    if (cand.size() < 2) continue;
    const AttentionItem& first = items[cand[0]];
    const AttentionArgs& A0 = args[members[first.m0].arg];
    const kv::KvLayout& L = A0.pool->layout();
    const int seg_len = SegmentLength(L), bt = L.block_tokens;
    const int b0 = first.sgi * seg_len / bt, b1 = b0 + seg_len / bt;
    const int group = A0.n_head / L.n_kv_heads;
    const int tile_tokens = TileTokens(group);
    std::vector<size_t> tile;  // item indices
    auto flush = [&] {
      if (tile.size() >= 2) {  // a lone item keeps its own
        const int m0 = static_cast<int>(members.size());
        for (size_t i : tile) {
          const Member m = members[items[i].m0];
          members.push_back(m);
          drop[i] = true;
        }
        shared.push_back({m0, static_cast<int>(members.size()), first.kvh, first.sgi,
                          static_cast<int64_t>(seg_len) * static_cast<int64_t>(tile.size())});
      }
      tile.clear();
    };
    const std::vector<int32_t>& blocks0 = A0.seq->blocks;
    for (size_t i : cand) {
      const std::vector<int32_t>& blocks = args[members[items[i].m0].arg].seq->blocks;
      if (!std::equal(blocks.begin() + b0, blocks.begin() + b1, blocks0.begin() + b0)) continue;
      tile.push_back(i);
      if (static_cast<int>(tile.size()) == tile_tokens) flush();
    }
    flush();
  }
  if (shared.empty()) return;
  int64_t tokens = 0;
  for (const AttentionItem& it : shared) tokens += it.m1 - it.m0;
  g_shared_tiles.fetch_add(static_cast<int64_t>(shared.size()), std::memory_order_relaxed);
  g_shared_tokens.fetch_add(tokens, std::memory_order_relaxed);
  if (stats != nullptr) {
    stats->shared_tiles += static_cast<int64_t>(shared.size());
    stats->shared_tokens += tokens;
  }
  size_t n = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (!drop[i]) items[n++] = items[i];
  items.resize(n);
  items.insert(items.end(), shared.begin(), shared.end());
}

}  // namespace

AttentionStats SharedAttentionTotals() {
  return {g_shared_tiles.load(std::memory_order_relaxed),
          g_shared_tokens.load(std::memory_order_relaxed)};
}

void Attention(const AttentionArgs* args, int n_args, ThreadPool& pool, AttentionStats* stats) {
  // Work items: (query tokens, kv head, segment); each covers the query heads of one GQA group.
  // Tokens whose window starts after position 0 form tiles of one (ranges differ).
  std::vector<std::vector<TokenRange>> ranges(n_args);
  std::vector<Member> members;
  std::vector<AttentionItem> items;
  size_t partial_floats = 0;
  for (int a = 0; a < n_args; ++a) {
    const AttentionArgs& A = args[a];
    const kv::KvLayout& L = A.pool->layout();
    const int group = A.n_head / L.n_kv_heads;
    const int seg_len = SegmentLength(L);
    const int tile_tokens = TileTokens(group);
    for (int t = 0; t < A.n_tok; ++t) {
      const int end = A.start + t + 1;  // one past the query's position
      const int lo = A.window > 0 ? std::max(0, end - A.window) : 0;
      const int n_pos = end - lo;
      const int n_seg = n_pos > seg_len ? (n_pos + seg_len - 1) / seg_len : 1;
      const bool split = n_seg > 1 || A.sinks != nullptr;
      ranges[a].push_back({lo, end, n_seg, partial_floats, split});
      if (split)
        partial_floats += static_cast<size_t>(L.n_kv_heads) * n_seg * group * (L.head_dim + 2);
    }
    for (int t0 = 0, t1; t0 < A.n_tok; t0 = t1) {
      t1 = t0 + 1;
      while (t1 < A.n_tok && t1 - t0 < tile_tokens && ranges[a][t0].lo == 0 &&
             ranges[a][t1].lo == 0)
        ++t1;
      for (int kvh = 0; kvh < L.n_kv_heads; ++kvh) {
        for (int sgi = 0; sgi < ranges[a][t1 - 1].n_seg; ++sgi) {  // n_seg grows with t
          int ts = t0;
          while (ranges[a][ts].n_seg <= sgi) ++ts;
          const int p0 = ranges[a][ts].lo + sgi * seg_len;
          const int64_t n = std::min(ranges[a][t1 - 1].end, p0 + seg_len) - p0;
          const int m0 = static_cast<int>(members.size());
          for (int t = ts; t < t1; ++t) members.push_back({a, t});
          items.push_back({m0, static_cast<int>(members.size()), kvh, sgi, n * (t1 - ts)});
        }
      }
    }
  }
  if (n_args > 1 && SharingEnabled()) ShareSegments(args, ranges, members, items, stats);
  // Largest first, so that the threads' last chunks of items are small ones (dynamic balance).
  std::stable_sort(items.begin(), items.end(),
                   [](const AttentionItem& x, const AttentionItem& y) { return x.cost > y.cost; });
  std::vector<float> partial(partial_floats);  // per token, kv head, segment: [group][hd] out, m, l
  pool.ParallelFor(static_cast<int64_t>(items.size()), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch;
    std::vector<const uint8_t*> k_blocks, v_blocks;
    std::vector<const float*> qs;
    std::vector<float*> outs, ms, ls;
    std::vector<int> n_pos;
    for (int64_t i = begin; i < end; ++i) {
      const AttentionItem& it = items[i];
      // The first member's sequence supplies the K/V: every member reads the same blocks.
      const Member& first = members[it.m0];
      const AttentionArgs& A = args[first.arg];
      const kv::KvLayout& L = A.pool->layout();
      const int hd = L.head_dim, group = A.n_head / L.n_kv_heads, bt = L.block_tokens;
      const int seg_len = SegmentLength(L);
      // Every token of the tile starts at p0 (one token, or all with lo == 0).
      const int p0 = ranges[first.arg][first.t].lo + it.sgi * seg_len;
      int p1 = p0 + 1;
      qs.clear();
      outs.clear();
      ms.clear();
      ls.clear();
      n_pos.clear();
      for (int mi = it.m0; mi < it.m1; ++mi) {
        const Member& m = members[mi];
        const AttentionArgs& M = args[m.arg];
        const TokenRange& r = ranges[m.arg][m.t];
        const size_t q_off = (static_cast<size_t>(m.t) * M.n_head + it.kvh * group) * hd;
        qs.push_back(M.q + q_off);
        const int e = std::min(r.end, p0 + seg_len);
        n_pos.push_back(e - p0);
        p1 = std::max(p1, e);
        if (!r.split) {
          outs.push_back(M.out + q_off);
          ms.push_back(nullptr);
          ls.push_back(nullptr);
        } else {
          float* o = partial.data() + r.partial +
                     static_cast<size_t>(it.kvh * r.n_seg + it.sgi) * group * (hd + 2);
          outs.push_back(o);
          ms.push_back(o + group * hd);
          ls.push_back(o + group * hd + group);
        }
      }
      // Whole blocks from p0's block on; or, when a sliding window starts inside a block, one
      // row per position (a view with one-token blocks), so no position before p0 is read.
      const bool aligned = p0 % bt == 0;
      const int view_bt = aligned ? bt : 1;
      const int v0 = p0 / view_bt, v1 = (p1 + view_bt - 1) / view_bt;
      k_blocks.resize(v1 - v0);
      v_blocks.resize(v1 - v0);
      for (int b = v0; b < v1; ++b) {
        const int p = b * view_bt;  // first position of this view block
        const size_t off = kv::KvPool::RowOffset(L, it.kvh, p % bt);
        k_blocks[b - v0] = A.pool->K(A.seq->blocks[p / bt], A.layer) + off;
        v_blocks[b - v0] = A.pool->V(A.seq->blocks[p / bt], A.layer) + off;
      }
      kernels::PagedHeadKv kv{
          k_blocks.data(), v_blocks.data(), view_bt, static_cast<int>(L.head_bytes()), hd, L.dtype};
      const kernels::QueryTile tile{it.m1 - it.m0, group,     qs.data(), n_pos.data(),
                                    outs.data(),   ms.data(), ls.data()};
      scratch.resize(kernels::AttendTileScratch(kv, tile));
      kernels::AttendTile(kv, tile, A.scale, scratch.data());
    }
  });
  // Merge the segments of each split (arg, token, kv head). An attention sink is one more
  // segment: logit sinks[h] with value 0 (l = 1, out = 0), so it joins only the denominator.
  std::vector<float> outs, ms, ls;
  for (int a = 0; a < n_args; ++a) {
    const AttentionArgs& A = args[a];
    const int hd = A.pool->layout().head_dim, n_kv = A.pool->layout().n_kv_heads;
    const int group = A.n_head / n_kv;
    for (int t = 0; t < A.n_tok; ++t) {
      const TokenRange& r = ranges[a][t];
      if (!r.split) continue;
      const int n_merge = r.n_seg + (A.sinks != nullptr ? 1 : 0);
      outs.resize(static_cast<size_t>(n_merge) * group * hd);
      ms.resize(static_cast<size_t>(n_merge) * group);
      ls.resize(ms.size());
      for (int kvh = 0; kvh < n_kv; ++kvh) {
        for (int sgi = 0; sgi < r.n_seg; ++sgi) {
          const float* o = partial.data() + r.partial +
                           static_cast<size_t>(kvh * r.n_seg + sgi) * group * (hd + 2);
          std::copy(o, o + group * hd, outs.data() + static_cast<size_t>(sgi) * group * hd);
          std::copy(o + group * hd, o + group * hd + group, ms.data() + sgi * group);
          std::copy(o + group * hd + group, o + group * hd + 2 * group, ls.data() + sgi * group);
        }
        if (A.sinks != nullptr) {
          const int s = r.n_seg;
          std::fill(outs.begin() + static_cast<size_t>(s) * group * hd, outs.end(), 0.0f);
          for (int h = 0; h < group; ++h) {
            ms[s * group + h] = A.sinks[kvh * group + h];
            ls[s * group + h] = 1.0f;
          }
        }
        const size_t q_off = (static_cast<size_t>(t) * A.n_head + kvh * group) * hd;
        kernels::MergePartials(outs.data(), ms.data(), ls.data(), n_merge, group, hd,
                               A.out + q_off);
      }
    }
  }
}

}  // namespace semantic::models

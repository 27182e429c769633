// Tiled prefill attention (AttendTile): every token of a tile bit-identical to its own
// AttendGroup / AttendGroupPartial call (the batch-invariance guarantee: a query's result must
// not depend on the tile it is computed in), and close to the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "attention_fixture.h"
#include "kernels/attention.h"

namespace semantic::kernels {
namespace {

using testing::Fixture;

struct TileCase {
  KvDtype dt = KvDtype::kF16;
  int hd = 64, bt = 16, n_q = 3;
  std::vector<int> n_pos;     // per token
  std::vector<bool> partial;  // per token: AttendGroupPartial's result (else AttendGroup's)
  int skip_blocks = 0;        // the tile's positions start this many blocks into the fixture
  uint32_t seed = 1;
};

std::string Describe(const TileCase& c) {
  std::string s = std::string(KvDtypeName(c.dt)) + " hd " + std::to_string(c.hd) + " bt " +
                  std::to_string(c.bt) + " n_q " + std::to_string(c.n_q) + " skip " +
                  std::to_string(c.skip_blocks) + " n_pos";
  for (size_t t = 0; t < c.n_pos.size(); ++t)
    s += " " + std::to_string(c.n_pos[t]) + (c.partial[t] ? "p" : "");
  return s;
}

void CheckTile(const TileCase& c) {
  const int n_tok = static_cast<int>(c.n_pos.size()), hd = c.hd, n_q = c.n_q;
  int n_max = 0;
  for (int n : c.n_pos) n_max = std::max(n_max, n);
  Fixture f(hd, n_tok * n_q, c.skip_blocks * c.bt + n_max, c.bt, c.seed, c.dt);
  PagedHeadKv kv = f.Kv();
  kv.k_blocks += c.skip_blocks;
  kv.v_blocks += c.skip_blocks;
  // Per token: q, out, m, l as the tile sees them.
  std::vector<float> out(static_cast<size_t>(n_tok) * n_q * hd, NAN), m(n_tok * n_q, NAN),
      l(n_tok * n_q, NAN);
  std::vector<const float*> qs;
  std::vector<float*> outs, ms, ls;
  for (int t = 0; t < n_tok; ++t) {
    qs.push_back(f.q.data() + static_cast<size_t>(t) * n_q * hd);
    outs.push_back(out.data() + static_cast<size_t>(t) * n_q * hd);
    ms.push_back(c.partial[t] ? m.data() + t * n_q : nullptr);
    ls.push_back(c.partial[t] ? l.data() + t * n_q : nullptr);
  }
  const QueryTile tile{n_tok, n_q, qs.data(), c.n_pos.data(), outs.data(), ms.data(), ls.data()};
  std::vector<float> scratch(AttendTileScratch(kv, tile));
  AttendTile(kv, tile, 0.125f, scratch.data());

  std::vector<float> one(n_q * hd), one_m(n_q), one_l(n_q), want(n_q * hd), s(n_q * n_max);
  for (int t = 0; t < n_tok; ++t) {
    const int n = c.n_pos[t];
    const float* got = outs[t];
    if (c.partial[t]) {
      AttendGroupPartial(kv, qs[t], n_q, n, 0.125f, s.data(), one.data(), one_m.data(),
                         one_l.data());
      ASSERT_EQ(std::memcmp(ms[t], one_m.data(), n_q * sizeof(float)), 0) << Describe(c);
      ASSERT_EQ(std::memcmp(ls[t], one_l.data(), n_q * sizeof(float)), 0) << Describe(c);
    } else {
      AttendGroup(kv, qs[t], n_q, n, 0.125f, s.data(), one.data());
    }
    for (int i = 0; i < n_q * hd; ++i)
      ASSERT_EQ(std::memcmp(&got[i], &one[i], sizeof(float)), 0)
          << Describe(c) << " token " << t << " i " << i << ": " << got[i] << " vs " << one[i];
    if (c.partial[t]) continue;
    // Against the scalar oracle: a weight rounded to f16 may differ by one f16 ulp (2^-11
    // relative) between the vector and scalar exp, so the bound scales with the output.
    ref::AttendGroup(kv, qs[t], n_q, n, 0.125f, s.data(), want.data());
    for (int i = 0; i < n_q * hd; ++i)
      ASSERT_NEAR(got[i], want[i], 2e-3f * (1 + std::fabs(want[i])))
          << Describe(c) << " token " << t << " i " << i;
  }
}

TEST(AttentionTest, TileMatchesSingleTokenCallsCausal) {
  // Consecutive prompt tokens (each attends one more position): causal boundaries inside
  // blocks and inside groups of 8, tiles of 1..9 tokens, partial and normalized results mixed.
  for (int hd : {8, 40, 64, 128, 256})
    for (int bt : {16, 1, 5, 12, 32})
      for (int n_q : {1, 3, 4})
        for (int start : {0, 6, 13, 100})
          for (int n_tok : {1, 3, 8, 9}) {
            TileCase c;
            c.hd = hd;
            c.bt = bt;
            c.n_q = n_q;
            c.seed = hd * 7919 + bt * 97 + n_q * 13 + start + n_tok;
            for (int t = 0; t < n_tok; ++t) {
              c.n_pos.push_back(start + t + 1);
              c.partial.push_back((t + start) % 3 == 1);
            }
            CheckTile(c);
          }
}

TEST(AttentionTest, TileMatchesSingleTokenCallsUnordered) {
  // Arbitrary per-token ranges, a segment that starts blocks into the cache, wide groups (16
  // heads; 9 x 16 rows exceed kMaxTileRows and take the per-token path), quantized dtypes (the
  // per-token path).
  for (KvDtype dt : testing::kAll)
    for (int n_q : {2, 7, 16})
      for (int skip : {0, 3}) {
        TileCase c;
        c.dt = dt;
        c.n_q = n_q;
        c.skip_blocks = skip;
        c.n_pos = {17, 3, 40, 8, 9, 64, 1, 33, 100};
        c.partial = {false, true, true, false, false, true, false, true, false};
        c.seed = n_q * 10 + skip;
        CheckTile(c);
      }
}

TEST(AttentionTest, TileMatchesSingleTokenCallsLong) {
  // A tile that straddles a 1024-position segment boundary, as the layer's split makes it.
  for (int hd : {64, 128}) {
    TileCase c;
    c.hd = hd;
    for (int t = 0; t < 8; ++t) {
      c.n_pos.push_back(1019 + t);
      c.partial.push_back(1019 + t > 1024);
    }
    c.seed = hd;
    CheckTile(c);
  }
}

}  // namespace
}  // namespace semantic::kernels

#include "core/base_kv_cache.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/kv_cache_test_util.h"
#include "core/reference_attention.h"
#include "core/rope_scaling.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;
using testing::Sequence;
using testing::Slice;

constexpr int64_t kQHeads = 6, kKvHeads = 2, kHeadDim = 8;
constexpr double kBase = 10000.0;

absl::StatusOr<std::unique_ptr<BaseKvCache>> MakeCache(PositionMode mode, int layers = 2) {
  KVLAB_ASSIGN_OR_RETURN(
      const RotaryEmbedding rope,
      RotaryEmbedding::Create(kHeadDim, kHeadDim, kBase, RopeStyle::kInterleaved));
  return testing::DenseCache({layers, kQHeads, kKvHeads, kHeadDim}, rope, mode);
}

Sequence RandomSequence(int64_t n) {
  return testing::RandomSequence(kQHeads, kKvHeads, n, kHeadDim);
}

at::Tensor Rotate(const at::Tensor& x, int64_t first, int64_t n) {
  return testing::ReferenceRope(x, at::arange(first, first + n, at::kLong), kBase, kHeadDim, true);
}

// A whole causal sequence in one step equals the reference on rotated inputs.
TEST(BaseKvCacheTest, PrefillMatchesReference) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal));
  const Sequence s = RandomSequence(11);
  absl::StatusOr<AttentionResult> result = cache->Attend(0, Slice(s, 0, 11));
  ASSERT_THAT(result, IsOk());
  const at::Tensor expected =
      testing::ReferenceAttention(Rotate(s.q, 0, 11), Rotate(s.k, 0, 11), s.v);
  EXPECT_TRUE(at::allclose(result->output, expected, 1e-4, 1e-5));
  EXPECT_EQ(cache->Length(0), 11);
  EXPECT_EQ(cache->Length(1), 0);
}

// Token-by-token decoding and chunks of uneven size give the same outputs as prefill.
TEST(BaseKvCacheTest, IncrementalStepsMatchReference) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal));
  const Sequence s = RandomSequence(10);
  const at::Tensor expected =
      testing::ReferenceAttention(Rotate(s.q, 0, 10), Rotate(s.k, 0, 10), s.v);
  int64_t begin = 0;
  for (int64_t n : {3, 1, 1, 4, 1}) {
    absl::StatusOr<AttentionResult> result = cache->Attend(0, Slice(s, begin, n));
    ASSERT_THAT(result, IsOk());
    EXPECT_TRUE(at::allclose(result->output, expected.narrow(1, begin, n), 1e-4, 1e-5))
        << "step at " << begin;
    begin += n;
  }
  EXPECT_TRUE(at::equal(cache->Positions(0), at::arange(10, at::kLong).repeat({kKvHeads, 1})));
}

// Without eviction, slots equal positions, so both modes agree.
TEST(BaseKvCacheTest, CacheSlotModeEqualsOriginalWithoutEviction) {
  ASSERT_OK_AND_ASSIGN(auto original, MakeCache(PositionMode::kOriginal));
  ASSERT_OK_AND_ASSIGN(auto slot, MakeCache(PositionMode::kCacheSlot));
  const Sequence s = RandomSequence(6);
  for (int64_t t = 0; t < 6; ++t) {
    ASSERT_OK_AND_ASSIGN(const AttentionResult a, original->Attend(1, Slice(s, t, 1)));
    ASSERT_OK_AND_ASSIGN(const AttentionResult b, slot->Attend(1, Slice(s, t, 1)));
    EXPECT_TRUE(at::allclose(a.output, b.output, 1e-4, 1e-5));
  }
}

// After evicting, kCacheSlot re-positions keys by slot; kOriginal keeps their positions.
TEST(BaseKvCacheTest, ModesDifferOnlyInPositionsAfterEviction) {
  const Sequence s = RandomSequence(8);
  const at::Tensor keep = at::tensor({0, 5, 6}, at::kLong).repeat({kKvHeads, 1});
  for (PositionMode mode : {PositionMode::kOriginal, PositionMode::kCacheSlot}) {
    ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(mode));
    ASSERT_THAT(cache->Attend(0, Slice(s, 0, 7)), IsOk());
    ASSERT_THAT(cache->Retain(0, keep), IsOk());
    EXPECT_TRUE(at::equal(cache->Positions(0)[0], at::tensor({0, 5, 6}, at::kLong)));
    ASSERT_OK_AND_ASSIGN(const AttentionResult step, cache->Attend(0, Slice(s, 7, 1)));
    const at::Tensor out = step.output;
    const at::Tensor kept_k = at::cat({s.k.index_select(1, at::tensor({0, 5, 6}, at::kLong)),
                                       s.k.narrow(1, 7, 1)}, 1);
    const at::Tensor kept_v = at::cat({s.v.index_select(1, at::tensor({0, 5, 6}, at::kLong)),
                                       s.v.narrow(1, 7, 1)}, 1);
    at::Tensor expected;
    if (mode == PositionMode::kOriginal) {
      const at::Tensor key_positions = at::tensor({0, 5, 6, 7}, at::kLong);
      expected = testing::ReferenceAttention(
          Rotate(s.q.narrow(1, 7, 1).contiguous(), 7, 1),
          testing::ReferenceRope(kept_k, key_positions, kBase, kHeadDim, true), kept_v);
    } else {  // Keys at slots 0..3, the query at slot 3.
      expected = testing::ReferenceAttention(Rotate(s.q.narrow(1, 7, 1).contiguous(), 3, 1),
                                             Rotate(kept_k, 0, 4), kept_v);
    }
    EXPECT_TRUE(at::allclose(out, expected, 1e-4, 1e-5));
  }
}

// Interleaved pairs of x [heads, n, d] turned by positions[t] * frequencies[i], written
// out pair by pair.
at::Tensor RotateByFrequencies(const at::Tensor& x, const std::vector<int64_t>& positions,
                               const std::vector<double>& frequencies) {
  at::Tensor out = x.clone();
  for (int64_t h = 0; h < x.size(0); ++h) {
    for (size_t t = 0; t < positions.size(); ++t) {
      for (size_t i = 0; i < frequencies.size(); ++i) {
        const double angle = positions[t] * frequencies[i];
        const double a = x[h][t][2 * i].item<double>(), b = x[h][t][2 * i + 1].item<double>();
        out[h][t][2 * i] = a * std::cos(angle) - b * std::sin(angle);
        out[h][t][2 * i + 1] = a * std::sin(angle) + b * std::cos(angle);
      }
    }
  }
  return out;
}

// A scaled rotary embedding (llama3's frequencies) rotates every read the cache makes:
// keys stored at their positions, and keys re-rotated by their slots after eviction.
TEST(BaseKvCacheTest, ScaledFrequenciesRotateKeysInBothPositionModes) {
  RopeScaling llama3;
  llama3.type = RopeScaling::Type::kLlama3;
  // Wavelengths 6.3, 63, 628 and 6283: kept, blended, divided, divided.
  llama3.original_context = 100;
  llama3.factor = 8.0;
  ASSERT_OK_AND_ASSIGN(const std::vector<double> frequencies,
                       RopeInverseFrequencies(kBase, kHeadDim, llama3));
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::WithFrequencies(kHeadDim, frequencies,
                                                        RopeStyle::kInterleaved));
  const Sequence s = RandomSequence(8);
  const at::Tensor kept = at::tensor({0, 5, 6}, at::kLong);
  const at::Tensor kept_k = at::cat({s.k.index_select(1, kept), s.k.narrow(1, 7, 1)}, 1);
  const at::Tensor kept_v = at::cat({s.v.index_select(1, kept), s.v.narrow(1, 7, 1)}, 1);
  const at::Tensor query = s.q.narrow(1, 7, 1).contiguous();
  for (PositionMode mode : {PositionMode::kOriginal, PositionMode::kCacheSlot}) {
    ASSERT_OK_AND_ASSIGN(auto cache, testing::DenseCache({1, kQHeads, kKvHeads, kHeadDim}, rope,
                                                         mode));
    ASSERT_THAT(cache->Attend(0, Slice(s, 0, 7)), IsOk());
    ASSERT_THAT(cache->Retain(0, kept.repeat({kKvHeads, 1})), IsOk());
    ASSERT_OK_AND_ASSIGN(const AttentionResult step, cache->Attend(0, Slice(s, 7, 1)));
    const bool original = mode == PositionMode::kOriginal;
    const at::Tensor expected = testing::ReferenceAttention(
        RotateByFrequencies(query, {original ? 7 : 3}, frequencies),
        RotateByFrequencies(kept_k, original ? std::vector<int64_t>{0, 5, 6, 7}
                                             : std::vector<int64_t>{0, 1, 2, 3},
                            frequencies),
        kept_v);
    EXPECT_TRUE(at::allclose(step.output, expected, 1e-4, 1e-5)) << static_cast<int>(mode);
  }
}

TEST(BaseKvCacheTest, StatsMatchReferenceProbabilities) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal));
  const Sequence s = RandomSequence(5);
  AttentionInputs in = Slice(s, 0, 5);
  in.stats_request.column_sums = true;
  in.stats_request.recent_queries = 2;
  absl::StatusOr<AttentionResult> result = cache->Attend(0, in);
  ASSERT_THAT(result, IsOk());
  at::Tensor probs;  // [q_heads, n, t]
  testing::ReferenceAttention(Rotate(s.q, 0, 5), Rotate(s.k, 0, 5), s.v, &probs);
  const at::Tensor per_kv = probs.view({kKvHeads, kQHeads / kKvHeads, 5, 5}).mean(1);
  EXPECT_TRUE(at::allclose(result->stats.column_sums, per_kv.sum(1), 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(result->stats.recent, per_kv.narrow(1, 3, 2), 1e-4, 1e-5));
}

TEST(BaseKvCacheTest, LongPrefillSpansQueryBlocks) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal, 1));
  const int64_t n = BaseKvCache::kQueryBlock + 37;
  const Sequence s = RandomSequence(n);
  AttentionInputs in = Slice(s, 0, n);
  in.stats_request.recent_queries = 40;  // Crosses the block boundary.
  absl::StatusOr<AttentionResult> result = cache->Attend(0, in);
  ASSERT_THAT(result, IsOk());
  // Compare the rows near the block boundary against a reference on that prefix.
  at::Tensor probs;
  const at::Tensor expected =
      testing::ReferenceAttention(Rotate(s.q, 0, n), Rotate(s.k, 0, n), s.v, &probs);
  EXPECT_TRUE(at::allclose(result->output, expected, 1e-4, 1e-5));
  const at::Tensor per_kv = probs.view({kKvHeads, kQHeads / kKvHeads, n, n}).mean(1);
  EXPECT_TRUE(at::allclose(result->stats.recent, per_kv.narrow(1, n - 40, 40), 1e-4, 1e-6));
}

// Without the output (a shared prefill's target), the statistics are those computed
// beside it, bit for bit, over several query blocks; a cache asked for none only stores.
TEST(BaseKvCacheTest, StatisticsWithoutTheOutputAreTheSame) {
  const int64_t n = 2 * BaseKvCache::kQueryBlock + 37;
  const Sequence s = RandomSequence(n);
  for (const bool column_sums : {false, true}) {
    SCOPED_TRACE(column_sums);
    AttentionInputs in = Slice(s, 0, n);
    in.stats_request.column_sums = column_sums;
    in.stats_request.recent_queries = 40;  // Crosses the last block boundary.
    in.stats_request.recent_by_query_head = true;
    ASSERT_OK_AND_ASSIGN(auto with_output, MakeCache(PositionMode::kOriginal, 1));
    ASSERT_OK_AND_ASSIGN(auto without, MakeCache(PositionMode::kOriginal, 1));
    ASSERT_OK_AND_ASSIGN(const AttentionResult full, with_output->Attend(0, in));
    in.output_wanted = false;
    ASSERT_OK_AND_ASSIGN(const AttentionResult stats_only, without->Attend(0, in));
    EXPECT_FALSE(stats_only.output.defined());
    EXPECT_TRUE(at::equal(stats_only.stats.recent, full.stats.recent));
    EXPECT_TRUE(
        at::equal(stats_only.stats.recent_by_query_head, full.stats.recent_by_query_head));
    EXPECT_EQ(stats_only.stats.column_sums.defined(), column_sums);
    if (column_sums) {
      EXPECT_TRUE(at::equal(stats_only.stats.column_sums, full.stats.column_sums));
    }
  }

  ASSERT_OK_AND_ASSIGN(auto stores_only, MakeCache(PositionMode::kOriginal, 1));
  AttentionInputs in = Slice(s, 0, n);
  in.output_wanted = false;
  ASSERT_OK_AND_ASSIGN(const AttentionResult nothing, stores_only->Attend(0, in));
  EXPECT_FALSE(nothing.output.defined());
  EXPECT_FALSE(nothing.stats.recent.defined());
  EXPECT_EQ(stores_only->Length(0), n);
  // What it stored attends as a cache that computed the prefill's output.
  ASSERT_OK_AND_ASSIGN(auto reference, MakeCache(PositionMode::kOriginal, 1));
  ASSERT_THAT(reference->Attend(0, Slice(s, 0, n)), IsOk());
  const Sequence next = RandomSequence(1);
  ASSERT_OK_AND_ASSIGN(const AttentionResult a, stores_only->Attend(0, testing::WholeAt(next, n)));
  ASSERT_OK_AND_ASSIGN(const AttentionResult b, reference->Attend(0, testing::WholeAt(next, n)));
  EXPECT_TRUE(at::equal(a.output, b.output));
}

TEST(BaseKvCacheTest, MemoryCountsHeldAndAllocatedBytes) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal, 2));
  const Sequence s = RandomSequence(10);
  ASSERT_THAT(cache->Attend(0, Slice(s, 0, 10)), IsOk());
  ASSERT_THAT(cache->Attend(1, Slice(s, 0, 10)), IsOk());
  const CacheMemory memory = cache->Memory();
  // 2 layers x (K + V) x 10 tokens x 2 heads x 8 dims x 4 bytes.
  EXPECT_EQ(memory.held_bytes, 2 * 2 * 10 * kKvHeads * kHeadDim * 4);
  EXPECT_EQ(memory.allocated_bytes, 2 * 2 * 64 * kKvHeads * kHeadDim * 4);
  EXPECT_EQ(memory.held_tokens, 20);
  EXPECT_EQ(memory.metadata_bytes, 2 * 10 * kKvHeads * 8);
  EXPECT_EQ(memory.peak_held_bytes, memory.held_bytes);
  // The high-water mark survives eviction.
  ASSERT_THAT(cache->Retain(0, at::zeros({kKvHeads, 1}, at::kLong)), IsOk());
  EXPECT_EQ(cache->Memory().peak_held_bytes, memory.held_bytes);
  EXPECT_LT(cache->Memory().held_bytes, memory.held_bytes);
}

TEST(BaseKvCacheTest, RejectsBadInputs) {
  ASSERT_OK_AND_ASSIGN(auto cache, MakeCache(PositionMode::kOriginal));
  AttentionInputs in = Slice(RandomSequence(2), 0, 2);
  EXPECT_THAT(cache->Attend(5, in), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layer 5")));
  in.keys = at::randn({3, 2, kHeadDim});
  EXPECT_THAT(cache->Attend(0, in), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keys")));
  ASSERT_OK_AND_ASSIGN(const RotaryEmbedding rope,
                       RotaryEmbedding::Create(kHeadDim, kHeadDim, kBase, RopeStyle::kInterleaved));
  EXPECT_THAT(BaseKvCache::Create({2, 5, 2, kHeadDim}, rope, PositionMode::kOriginal, at::kCPU,
                                  testing::DenseStores(kKvHeads, kHeadDim),
                                  testing::DenseStores(kKvHeads, kHeadDim)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("multiple of kv_heads")));
}

}  // namespace
}  // namespace kvlab

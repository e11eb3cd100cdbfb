// Benchmarks of the cache's hot paths (Google Benchmark):
//
//   bazel run //kernels:bench
//   bazel run //kernels:bench -- --benchmark_filter=DecodeAttention
//
// DecodeAttention/<format>/<tokens>: one decode step's attention for one layer of the
// default model's shape (3 KV heads, 9 query heads, head dim 64) over a cache of
// <tokens>: scores, softmax, weighted values. bytes_per_second counts the bytes of
// cache read (levels, scales, zeros, or fp32 K and V). Formats: fp32 (ATen matmuls),
// fp32_fused, int8 and int4 (the fused kernels), int4_dequantized (dequantize the cache to fp32, then
// the fp32 path: what the fused kernels avoid).
// Memcpy/<MiB>: the machine's copy bandwidth in the same run, for comparison.
// DenseAppend lives with the store it measures: bazel run //core:dense_tensor_store_bench.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <thread>

#include "kernels/attention_scores.h"
#include "kernels/integer_format.h"
#include "kernels/weighted_values.h"

namespace kvlab::kernels {
namespace {

constexpr int64_t kKvHeads = 3, kGroup = 3, kDim = 64;

struct QuantizedCache {
  TokenGroupsView keys;
  TokenGroupsView values;
  int64_t bytes = 0;
};

QuantizedCache MakeQuantized(int bits, int64_t tokens) {
  const IntegerFormat format{bits, false, at::kHalf};
  QuantizedCache cache;
  for (TokenGroupsView* view : {&cache.keys, &cache.values}) {
    const at::Tensor x = at::randn({kKvHeads, tokens, kDim});
    QuantizedGroups q = *QuantizeGroups(format, x.unflatten(-1, {2, 32}));
    *view = {format, kDim, 32, PackLevels(format, q.levels.flatten(-2)),
             q.scale.squeeze(-1).contiguous(), q.zero.squeeze(-1).contiguous()};
    cache.bytes += view->levels.nbytes() + view->scale.nbytes() + view->zero.nbytes();
  }
  return cache;
}

at::Tensor Dequantize(const TokenGroupsView& v) {
  const IntegerFormat& format = v.format;
  const at::Tensor levels = UnpackLevels(format, v.levels, kDim).unflatten(-1, {2, 32});
  return DequantizeLevels(format, levels, v.scale.unsqueeze(-1), v.zero.unsqueeze(-1))
      .flatten(-2);
}

void SetThreads() {
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

void DecodeAttentionFp32(benchmark::State& state) {
  SetThreads();
  const int64_t tokens = state.range(0);
  const at::Tensor k = at::randn({kKvHeads, tokens, kDim}), v = at::randn({kKvHeads, tokens, kDim});
  const at::Tensor q = at::randn({kKvHeads, kGroup, kDim});
  for (auto _ : state) {
    const at::Tensor p = at::softmax(at::matmul(q, k.transpose(1, 2)) * 0.125, -1);
    benchmark::DoNotOptimize(at::matmul(p, v));
  }
  state.SetBytesProcessed(state.iterations() * (k.nbytes() + v.nbytes()));
}

void DecodeAttentionFp32Fused(benchmark::State& state) {
  SetThreads();
  const int64_t tokens = state.range(0);
  const at::Tensor k = at::randn({kKvHeads, tokens, kDim}), v = at::randn({kKvHeads, tokens, kDim});
  const at::Tensor q = at::randn({kKvHeads, kGroup, kDim});
  for (auto _ : state) {
    const at::Tensor p = at::softmax(*AttentionScores(q, DenseRowsView{k}) * 0.125, -1);
    benchmark::DoNotOptimize(*WeightedValues(p, DenseRowsView{v}));
  }
  state.SetBytesProcessed(state.iterations() * (k.nbytes() + v.nbytes()));
}

void DecodeAttentionFused(benchmark::State& state, int bits) {
  SetThreads();
  const QuantizedCache cache = MakeQuantized(bits, state.range(0));
  const at::Tensor q = at::randn({kKvHeads, kGroup, kDim});
  for (auto _ : state) {
    const at::Tensor p = at::softmax(*AttentionScores(q, cache.keys) * 0.125, -1);
    benchmark::DoNotOptimize(*WeightedValues(p, cache.values));
  }
  state.SetBytesProcessed(state.iterations() * cache.bytes);
}

void DecodeAttentionInt8(benchmark::State& state) { DecodeAttentionFused(state, 8); }
void DecodeAttentionInt4(benchmark::State& state) { DecodeAttentionFused(state, 4); }

void DecodeAttentionInt4Dequantized(benchmark::State& state) {
  SetThreads();
  const QuantizedCache cache = MakeQuantized(4, state.range(0));
  const at::Tensor q = at::randn({kKvHeads, kGroup, kDim});
  for (auto _ : state) {
    const at::Tensor p =
        at::softmax(at::matmul(q, Dequantize(cache.keys).transpose(1, 2)) * 0.125, -1);
    benchmark::DoNotOptimize(at::matmul(p, Dequantize(cache.values)));
  }
  state.SetBytesProcessed(state.iterations() * cache.bytes);
}

void Memcpy(benchmark::State& state) {
  SetThreads();
  const at::Tensor src = at::randn({state.range(0) * 1024 * 1024 / 4});
  at::Tensor dst = at::empty_like(src);
  for (auto _ : state) {
    dst.copy_(src);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * src.nbytes());
}

BENCHMARK(DecodeAttentionFp32)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kMicrosecond);
BENCHMARK(DecodeAttentionFp32Fused)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kMicrosecond);
BENCHMARK(DecodeAttentionInt8)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kMicrosecond);
BENCHMARK(DecodeAttentionInt4)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kMicrosecond);
BENCHMARK(DecodeAttentionInt4Dequantized)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kMicrosecond);
BENCHMARK(Memcpy)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kvlab::kernels

BENCHMARK_MAIN();

// Benchmark of appending to a dense store (Google Benchmark):
//
//   bazel run //core:dense_tensor_store_bench
//
// DenseAppend/<tokens>: appending one token to a dense store already holding about
// <tokens>, amortised over the doublings of its capacity.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include "core/dense_tensor_store.h"

namespace kvlab {
namespace {

constexpr int64_t kKvHeads = 3, kDim = 64;

void DenseAppend(benchmark::State& state) {
  at::set_num_threads(1);
  const int64_t tokens = state.range(0);
  const at::Tensor token = at::randn({kKvHeads, 1, kDim});
  const auto fill = [&] {
    auto store = *DenseTensorStore::Create(kKvHeads, kDim, at::kFloat, at::kCPU);
    (void)store->Append(at::randn({kKvHeads, tokens, kDim}));
    return store;
  };
  auto store = fill();
  for (auto _ : state) {
    (void)store->Append(token);
    if (store->length() == 2 * tokens) {  // Back to `tokens`, off the clock.
      state.PauseTiming();
      store = fill();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(DenseAppend)->RangeMultiplier(2)->Range(1024, 32768)->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace kvlab

BENCHMARK_MAIN();

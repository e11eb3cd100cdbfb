// Checks the fused CUDA decode attention against an fp64 ATen reference, then times it
// beside PyTorch's scaled_dot_product_attention over dense fp16 and bf16 caches of the
// same shape, in this one process, and against the card's copy bandwidth. Prints
// markdown tables; exits non-zero if a check fails.
//
//   decode_attention_gpu                 checks, then benchmarks
//   decode_attention_gpu --checks_only   (what compute-sanitizer runs)
//
// Built by `bazel build --config=cuda //kernels/cuda:decode_attention_gpu`; runs on a
// GPU machine against its PyTorch (kernels/cuda/run_gpu_bundle.sh).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "kernels/decode_attention.h"
#include "kernels/decode_test_cache.h"

ABSL_FLAG(bool, checks_only, false, "run the correctness checks only (for compute-sanitizer)");

namespace kvlab::kernels {
namespace {

using testing::CacheKind;

constexpr CacheKind kAllKinds[] = {CacheKind::kInt8Tokens,      CacheKind::kInt4Tokens,
                                   CacheKind::kInt4SymTokens,   CacheKind::kInt4ChannelKeys,
                                   CacheKind::kFloat32,         CacheKind::kFloat16,
                                   CacheKind::kBFloat16};

double RelativeError(const at::Tensor& actual, const at::Tensor& expected) {
  const at::Tensor a = actual.cpu().to(at::kDouble), e = expected.cpu().to(at::kDouble);
  if (!at::isfinite(a).all().item<bool>()) return NAN;
  return ((a - e).abs().max() / e.abs().max().clamp_min(1e-12)).item<double>();
}

// Every kind, head dim, group size and length, with and without an fp32 residual
// segment; outputs and statistics against the fp64 reference.
int RunChecks() {
  const uint64_t seed = std::random_device{}();
  at::manual_seed(seed);
  std::printf("## Checks (seed %llu): fused CUDA decode attention vs fp64 reference\n\n",
              static_cast<unsigned long long>(seed));
  std::printf("| cache | dim | cases | max error out | max error stats | bound | result |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  constexpr double kBound = 2e-4;  // fp32 accumulation, fast exp2 (inputs are exact).
  constexpr int64_t kHeads = 4;
  int failures = 0;
  for (const CacheKind kind : kAllKinds) {
    for (const int64_t dim : {64, 128}) {
      double worst_out = 0, worst_stats = 0;
      int cases = 0;
      bool all_fused = true;
      for (const int64_t group : {1, 3, 8}) {
        for (const int64_t tokens : {1, 300, 5000}) {
          for (const int64_t residual : {0, 37}) {
            const testing::TestCache cache =
                testing::MakeTestCache(kind, kHeads, tokens, dim, 32, residual, at::kCUDA);
            const at::Tensor q = at::randn({kHeads, group, dim}, at::kCUDA);
            const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
            const int64_t total = tokens + residual;
            all_fused = all_fused && FusedDecodeStep::Prepare(q, cache.segments).ok();
            at::Tensor out = at::full({kHeads, group, dim}, NAN, q.options());
            // Statistics into a strided view, on top of what is there.
            at::Tensor sums = at::rand({kHeads, total + 5}, q.options()).narrow(1, 0, total);
            const at::Tensor before = sums.clone();
            const absl::Status status = DecodeAttention(q, cache.segments, scale, out, sums);
            if (!status.ok()) {
              std::printf("| %s | %d | error: %s |\n", testing::KindName(kind).c_str(),
                          static_cast<int>(dim), std::string(status.message()).c_str());
              ++failures;
              continue;
            }
            const testing::ReferenceAttention want = testing::Reference(q, cache, scale);
            worst_out = std::fmax(worst_out, RelativeError(out, want.out));
            worst_stats = std::fmax(worst_stats, RelativeError(sums - before, want.column_sums));
            if (std::isnan(worst_out) || std::isnan(worst_stats)) worst_out = NAN;
            ++cases;
          }
        }
      }
      const bool ok = all_fused && std::isfinite(worst_out) && worst_out <= kBound &&
                      worst_stats <= kBound;
      if (!ok) ++failures;
      std::printf("| %s | %d | %d | %.2e | %.2e | %.0e | %s |\n", testing::KindName(kind).c_str(),
                  static_cast<int>(dim), cases, worst_out, worst_stats, kBound,
                  ok ? "ok" : (all_fused ? "FAIL" : "FAIL (not fused)"));
    }
  }
  std::printf("\n%s\n\n", failures == 0 ? "All checks passed." : "SOME CHECKS FAILED.");
  return failures;
}

// Microseconds per call of `step`: CUDA-graph replay of `reps` captured calls (no
// launch gaps), or, if capture fails, eager calls between events.
struct Timing {
  double us = 0;
  const char* how = "";
};

Timing Time(const std::function<void()>& step) {
  constexpr int kReps = 20, kReplays = 10;
  for (int i = 0; i < 3; ++i) step();
  torch::cuda::synchronize();
  at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
  try {
    const c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool());
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    for (int i = 0; i < kReps; ++i) step();
    graph.capture_end();
    graph.replay();
    start.record();
    for (int i = 0; i < kReplays; ++i) graph.replay();
    stop.record();
    stop.synchronize();
    return {start.elapsed_time(stop) * 1000.0 / (kReps * kReplays), "graph"};
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graph capture failed, timing eager calls: %s\n", e.what());
  }
  torch::cuda::synchronize();
  start.record();
  for (int i = 0; i < kReps * kReplays; ++i) step();
  stop.record();
  stop.synchronize();
  return {start.elapsed_time(stop) * 1000.0 / (kReps * kReplays), "eager"};
}

int64_t Bytes(const at::Tensor& t) { return t.defined() ? t.numel() * t.element_size() : 0; }

struct BenchCache {
  std::vector<DecodeSegment> segments;
  int64_t bytes = 0;  // Everything the kernel reads from the cache.
};

// Random contents in the kind's layout (the speed does not depend on the values).
BenchCache MakeBenchCache(CacheKind kind, int64_t heads, int64_t tokens, int64_t dim) {
  const auto cuda = at::TensorOptions().device(at::kCUDA);
  constexpr int64_t kGroup = 32;
  BenchCache cache;
  auto per_token = [&](int bits, at::ScalarType scale_type, bool symmetric) {
    const int64_t packed = bits == 8 ? dim : dim / 2;
    TokenGroupsView view{kernels::IntegerFormat{bits, symmetric, scale_type}, dim, kGroup,
                         at::randint(0, 256, {heads, tokens, packed}, cuda.dtype(at::kByte)),
                         at::rand({heads, tokens, dim / kGroup}, cuda.dtype(scale_type)),
                         symmetric ? at::Tensor()
                                   : at::randn({heads, tokens, dim / kGroup}, cuda.dtype(scale_type))};
    cache.bytes += Bytes(view.levels) + Bytes(view.scale) + Bytes(view.zero);
    return view;
  };
  switch (kind) {
    case CacheKind::kInt8Tokens:
    case CacheKind::kInt4Tokens:
    case CacheKind::kInt4SymTokens: {
      const int bits = kind == CacheKind::kInt8Tokens ? 8 : 4;
      const at::ScalarType scale_type = kind == CacheKind::kInt8Tokens ? at::kHalf
                                        : kind == CacheKind::kInt4Tokens ? at::kBFloat16
                                                                         : at::kFloat;
      const bool symmetric = kind == CacheKind::kInt4SymTokens;
      cache.segments.push_back(
          {per_token(bits, scale_type, symmetric), per_token(bits, scale_type, symmetric)});
      break;
    }
    case CacheKind::kInt4ChannelKeys: {
      const int64_t blocks = (tokens + kGroup - 1) / kGroup;
      ChannelBlocksView keys{kernels::IntegerFormat{4, false, at::kHalf}, dim,
                             at::randint(0, 256, {heads, tokens, dim / 2}, cuda.dtype(at::kByte)),
                             at::floor_divide(at::arange(tokens, cuda.dtype(at::kLong)), kGroup)
                                 .unsqueeze(0)
                                 .expand({heads, tokens})
                                 .contiguous(),
                             at::rand({heads, blocks, dim}, cuda.dtype(at::kHalf)),
                             at::randn({heads, blocks, dim}, cuda.dtype(at::kHalf))};
      cache.bytes += Bytes(keys.levels) + Bytes(keys.block_of) + Bytes(keys.scale) + Bytes(keys.zero);
      cache.segments.push_back({keys, per_token(4, at::kHalf, false)});
      break;
    }
    default: {
      const at::ScalarType type = kind == CacheKind::kFloat32   ? at::kFloat
                                  : kind == CacheKind::kFloat16 ? at::kHalf
                                                                : at::kBFloat16;
      const at::Tensor k = at::randn({heads, tokens, dim}, cuda.dtype(type));
      const at::Tensor v = at::randn({heads, tokens, dim}, cuda.dtype(type));
      cache.bytes += Bytes(k) + Bytes(v);
      cache.segments.push_back({DenseRowsView{k}, DenseRowsView{v}});
      break;
    }
  }
  return cache;
}

void RunBenchmarks() {
  constexpr int64_t kHeads = 256, kDim = 64;
  const cudaDeviceProp* props = at::cuda::getCurrentDeviceProperties();
  // Copy bandwidth: read + write of 1 GiB.
  const at::Tensor src = at::empty({int64_t{1} << 30}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA));
  at::Tensor dst = at::empty_like(src);
  const Timing copy = Time([&] { dst.copy_(src); });
  const double copy_gbs = 2.0 * Bytes(src) / (copy.us * 1e3);
  std::printf("## Decode attention, %s (%d SMs): %d KV heads x %d dims, one query row per "
              "head, one step\n\n",
              props->name, props->multiProcessorCount, static_cast<int>(kHeads),
              static_cast<int>(kDim));
  std::printf("Copy bandwidth (1 GiB device-to-device, read + write): %.0f GB/s.\n\n", copy_gbs);
  std::printf("| tokens | attention | us/step | MB read | GB/s | %% of copy | speed vs SDPA fp16 | timed |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  const double scale = 1.0 / std::sqrt(static_cast<double>(kDim));
  for (const int64_t tokens : {8192, 32768}) {
    double sdpa_fp16_us = 0;
    auto row = [&](const std::string& name, const Timing& t, int64_t bytes) {
      const double gbs = bytes / (t.us * 1e3);
      std::printf("| %d | %s | %.1f | %.1f | %.0f | %.0f%% | %.2fx | %s |\n",
                  static_cast<int>(tokens), name.c_str(), t.us, bytes / 1e6, gbs,
                  100.0 * gbs / copy_gbs, sdpa_fp16_us / t.us, t.how);
    };
    for (const at::ScalarType type : {at::kHalf, at::kBFloat16}) {
      const auto options = at::TensorOptions().dtype(type).device(at::kCUDA);
      const at::Tensor q = at::randn({1, kHeads, 1, kDim}, options);
      const at::Tensor k = at::randn({1, kHeads, tokens, kDim}, options);
      const at::Tensor v = at::randn({1, kHeads, tokens, kDim}, options);
      const Timing t = Time([&] { at::scaled_dot_product_attention(q, k, v); });
      if (type == at::kHalf) sdpa_fp16_us = t.us;
      row(absl::StrFormat("torch SDPA %s", type == at::kHalf ? "fp16" : "bf16"), t,
          Bytes(k) + Bytes(v));
    }
    for (const CacheKind kind : kAllKinds) {
      const BenchCache cache = MakeBenchCache(kind, kHeads, tokens, kDim);
      const at::Tensor q = at::randn({kHeads, 1, kDim}, at::kCUDA);
      at::Tensor out = at::empty({kHeads, 1, kDim}, q.options());
      at::Tensor sums = at::zeros({kHeads, tokens}, q.options());
      for (const bool stats : {false, true}) {
        if (stats && kind != CacheKind::kInt4Tokens && kind != CacheKind::kFloat16) continue;
        if (!FusedDecodeStep::Prepare(q, cache.segments).ok()) {
          std::printf("| %d | kvlab %s | not fused |\n", static_cast<int>(tokens),
                      testing::KindName(kind).c_str());
          continue;
        }
        const Timing t = Time([&] {
          const absl::Status s =
              DecodeAttention(q, cache.segments, scale, out, stats ? sums : at::Tensor());
          if (!s.ok()) throw std::runtime_error(std::string(s.message()));
        });
        row(absl::StrFormat("kvlab %s%s", testing::KindName(kind), stats ? " + stats" : ""), t,
            cache.bytes + (stats ? Bytes(sums) * 2 : 0));
      }
    }
  }
  std::printf("\nMB read counts every byte of the cache the step reads: levels, scales, zero "
              "points, KIVI block indices (and, with stats, the sums read and written).\n");
}

}  // namespace
}  // namespace kvlab::kernels

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!at::hasCUDA()) {
    std::fprintf(stderr, "decode_attention_gpu: no CUDA device; run it on a GPU machine\n");
    return 2;
  }
  const int failures = kvlab::kernels::RunChecks();
  if (!absl::GetFlag(FLAGS_checks_only)) kvlab::kernels::RunBenchmarks();
  return failures == 0 ? 0 : 1;
}

// Checks and times kvlab's CUDA kernels on a GPU; prints a table.
//
// Every kernel runs on fresh random inputs (the seed is printed) against a plain host
// reference written independently of the kernels, with its outputs poisoned (NaN or
// 0xFF bytes) before each run so that unwritten elements fail. Then the fused decode
// attention kernels are timed over int8 and int4 caches of 1K to 32K tokens and their
// cache read rate compared with the device's measured copy bandwidth.
//
//   kernels/cuda/run_on_gpu.sh     (builds with CMake and runs this)
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_scores_cuda.h"
#include "kernels/attention_stats_cuda.h"
#include "kernels/gather_tokens_cuda.h"
#include "kernels/quantize_rows_cuda.h"
#include "kernels/weighted_values_cuda.h"

namespace kvlab::kernels::cuda {
namespace {

#define CHECK_CUDA(call)                                                              \
  do {                                                                                \
    const cudaError_t error = (call);                                                 \
    if (error != cudaSuccess) {                                                       \
      std::fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(error),     \
                   __FILE__, __LINE__);                                               \
      std::exit(2);                                                                   \
    }                                                                                 \
  } while (0)

// A launcher's result: nullptr, or the launch error's text.
#define CHECK_LAUNCH(call)                                                            \
  do {                                                                                \
    if (const char* error = (call)) {                                                 \
      std::fprintf(stderr, "launch error %s at %s:%d\n", error, __FILE__, __LINE__);   \
      std::exit(2);                                                                   \
    }                                                                                 \
  } while (0)

std::mt19937_64 rng;
int failures = 0;

template <typename T>
struct DeviceArray {
  explicit DeviceArray(size_t n) : size(n) { CHECK_CUDA(cudaMalloc(&data, std::max<size_t>(n, 1) * sizeof(T))); }
  ~DeviceArray() { cudaFree(data); }
  void Upload(const std::vector<T>& host) {
    CHECK_CUDA(cudaMemcpy(data, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> Download() const {
    std::vector<T> host(size);
    CHECK_CUDA(cudaMemcpy(host.data(), data, size * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  void Poison() { CHECK_CUDA(cudaMemset(data, 0xFF, size * sizeof(T))); }  // NaN for floats
  T* data = nullptr;
  size_t size;
};

std::vector<float> RandomFloats(size_t n, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> out(n);
  for (float& x : out) x = normal(rng);
  return out;
}

void Report(const std::string& name, double error, double bound) {
  const bool ok = std::isfinite(error) && error <= bound;
  if (!ok) ++failures;
  std::printf("| %-44s | %10.2e | %8.0e | %s |\n", name.c_str(), error, bound, ok ? "ok" : "FAIL");
}

double RelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 1e-12;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return NAN;
    diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return diff / scale;
}

// A quantized cache in host memory: levels, fp16 scales and zeros per token group, the
// layout of quant/per_token_store.h; and its dequantized values by the formula.
struct HostCache {
  int bits;
  int64_t heads, tokens, dim, group, packed;
  std::vector<uint8_t> levels;
  std::vector<__half> scale, zero;
  std::vector<float> values;  // dequantized reference [heads, tokens, dim]
};

HostCache MakeCache(int bits, int64_t heads, int64_t tokens, int64_t dim, int64_t group) {
  HostCache c{bits, heads, tokens, dim, group, bits == 8 ? dim : (dim + 1) / 2};
  const int64_t groups = dim / group;
  c.levels.assign(heads * tokens * c.packed, 0);
  c.scale.resize(heads * tokens * groups);
  c.zero.resize(heads * tokens * groups);
  c.values.resize(heads * tokens * dim);
  std::uniform_int_distribution<int> level((0), (1 << bits) - 1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int64_t r = 0; r < heads * tokens; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      c.scale[r * groups + g] = __float2half(0.01f + 0.1f * std::fabs(uniform(rng)));
      c.zero[r * groups + g] = __float2half(uniform(rng));
    }
    for (int64_t ch = 0; ch < dim; ++ch) {
      const int l = level(rng);
      if (bits == 8) {
        c.levels[r * c.packed + ch] = static_cast<uint8_t>(l);
      } else {
        c.levels[r * c.packed + ch / 2] |= static_cast<uint8_t>(l << ((ch % 2) * 4));
      }
      const int64_t g = r * groups + ch / group;
      c.values[r * dim + ch] = l * __half2float(c.scale[g]) + __half2float(c.zero[g]);
    }
  }
  return c;
}

struct DeviceCache {
  explicit DeviceCache(const HostCache& h)
      : levels(h.levels.size()), scale(h.scale.size()), zero(h.zero.size()) {
    levels.Upload(h.levels);
    scale.Upload(h.scale);
    zero.Upload(h.zero);
    rows.encoding = h.bits == 8 ? Encoding::kInt8 : Encoding::kInt4;
    rows.data = levels.data;
    rows.head_stride = h.tokens * h.packed;
    rows.row_stride = h.packed;
    rows.scale = scale.data;
    rows.zero = zero.data;
    rows.scale_encoding = Encoding::kFloat16;
    rows.scale_head_stride = h.tokens * (h.dim / h.group);
    rows.scale_row_stride = h.dim / h.group;
    rows.offset = 0;
    rows.dim = h.dim;
    rows.group = h.group;
    rows.heads = h.heads;
    rows.tokens = h.tokens;
  }
  DeviceArray<uint8_t> levels;
  DeviceArray<__half> scale, zero;
  QuantizedRows rows;
};

void CheckAttention() {
  for (int bits : {8, 4}) {
    for (int64_t tokens : {1, 300, 4097}) {
      for (int64_t m : {1, 3, 11}) {
        const int64_t heads = 3, dim = 64, group = 32;
        const HostCache h = MakeCache(bits, heads, tokens, dim, group);
        DeviceCache d(h);
        const std::vector<float> q = RandomFloats(heads * m * dim);
        std::vector<float> w = RandomFloats(heads * m * tokens);
        for (float& x : w) x = std::fabs(x) / tokens;
        std::vector<float> want_scores(heads * m * tokens, 0), want_out(heads * m * dim, 0);
        for (int64_t hh = 0; hh < heads; ++hh) {
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t t = 0; t < tokens; ++t) {
              double dot = 0;
              for (int64_t c = 0; c < dim; ++c) {
                const double v = h.values[(hh * tokens + t) * dim + c];
                dot += q[(hh * m + i) * dim + c] * v;
                want_out[(hh * m + i) * dim + c] += w[(hh * m + i) * tokens + t] * v;
              }
              want_scores[(hh * m + i) * tokens + t] = static_cast<float>(dot);
            }
          }
        }
        DeviceArray<float> dq(q.size()), dw(w.size()), scores(want_scores.size()), out(want_out.size());
        dq.Upload(q);
        dw.Upload(w);
        scores.Poison();
        out.Poison();
        CHECK_LAUNCH(LaunchAttentionScores(dq.data, m, d.rows, scores.data, nullptr));
        CHECK_LAUNCH(LaunchWeightedValues(dw.data, m, d.rows, out.data, nullptr));
        CHECK_CUDA(cudaDeviceSynchronize());
        char name[96];
        std::snprintf(name, sizeof(name), "scores int%d tokens=%lld m=%lld", bits, (long long)tokens, (long long)m);
        Report(name, RelativeError(scores.Download(), want_scores), 1e-5);
        std::snprintf(name, sizeof(name), "weighted values int%d tokens=%lld m=%lld", bits, (long long)tokens, (long long)m);
        Report(name, RelativeError(out.Download(), want_out), 1e-5);
      }
    }
  }
}

void CheckQuantize() {
  for (int bits : {8, 4}) {
    for (bool per_channel : {false, true}) {
      const int64_t heads = 3, tokens = 40, dim = 64, group = 32;
      const std::vector<float> x = RandomFloats(heads * tokens * dim, 2.0f);
      const int64_t packed = bits == 8 ? dim : dim / 2;
      const int64_t scales = per_channel ? heads * dim : heads * tokens * (dim / group);
      DeviceArray<float> dx(x.size());
      DeviceArray<uint8_t> levels(heads * tokens * packed);
      DeviceArray<float> scale(scales), zero(scales);
      dx.Upload(x);
      levels.Poison();
      scale.Poison();
      zero.Poison();
      QuantizeJob a;
      a.x = dx.data;
      a.out.encoding = bits == 8 ? Encoding::kInt8 : Encoding::kInt4;
      a.out.data = levels.data;
      a.out.head_stride = tokens * packed;
      a.out.row_stride = packed;
      a.out.scale = scale.data;
      a.out.zero = zero.data;
      a.out.scale_head_stride = per_channel ? dim : tokens * (dim / group);
      a.out.scale_row_stride = per_channel ? 0 : dim / group;
      a.out.group = per_channel ? 1 : group;
      a.out.dim = dim;
      a.out.heads = heads;
      a.out.tokens = tokens;
      a.per_channel = per_channel;
      CHECK_LAUNCH(LaunchQuantize(a, nullptr));
      CHECK_CUDA(cudaDeviceSynchronize());
      const std::vector<uint8_t> l = levels.Download();
      const std::vector<float> s = scale.Download(), z = zero.Download();
      // Read back and compare with the input: within half a step of each group.
      double worst = 0;
      for (int64_t hh = 0; hh < heads; ++hh) {
        for (int64_t t = 0; t < tokens; ++t) {
          for (int64_t c = 0; c < dim; ++c) {
            const int64_t r = hh * tokens + t;
            const int level = bits == 8 ? l[r * packed + c] : (l[r * packed + c / 2] >> ((c % 2) * 4)) & 15;
            const int64_t g = per_channel ? hh * dim + c : r * (dim / group) + c / group;
            const double back = level * s[g] + z[g];
            const double err = std::fabs(back - x[r * dim + c]) / (0.5 * s[g] + 1e-6);
            worst = std::max(worst, std::isfinite(back) ? err : INFINITY);
          }
        }
      }
      char name[96];
      std::snprintf(name, sizeof(name), "quantize int%d %s (error / half step)", bits,
                    per_channel ? "per-channel" : "per-token g32");
      Report(name, worst, 1.0001);
    }
  }
}

void CheckGatherAndStats() {
  const int64_t heads = 3, length = 500, m = 123, row_bytes = 256;
  std::vector<uint8_t> src(heads * length * row_bytes);
  for (auto& b : src) b = static_cast<uint8_t>(rng());
  std::vector<int64_t> keep(heads * m);
  for (int64_t hh = 0; hh < heads; ++hh) {
    std::vector<int64_t> all(length);
    for (int64_t i = 0; i < length; ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    std::sort(all.begin(), all.begin() + m);
    std::copy(all.begin(), all.begin() + m, keep.begin() + hh * m);
  }
  DeviceArray<uint8_t> dsrc(src.size()), ddst(heads * m * row_bytes);
  DeviceArray<int64_t> dkeep(keep.size());
  dsrc.Upload(src);
  dkeep.Upload(keep);
  ddst.Poison();
  CHECK_LAUNCH(LaunchGatherRows(dsrc.data, length * row_bytes, ddst.data, m * row_bytes,
                                dkeep.data, m, heads, m, row_bytes, nullptr));
  CHECK_CUDA(cudaDeviceSynchronize());
  const std::vector<uint8_t> got = ddst.Download();
  int64_t wrong = 0;
  for (int64_t hh = 0; hh < heads; ++hh) {
    for (int64_t i = 0; i < m; ++i) {
      wrong += std::memcmp(&got[(hh * m + i) * row_bytes],
                           &src[(hh * length + keep[hh * m + i]) * row_bytes], row_bytes) != 0;
    }
  }
  Report("gather rows (wrong rows)", static_cast<double>(wrong), 0);

  const int64_t group = 3, queries = 5;
  std::vector<float> probs = RandomFloats(heads * group * queries * length);
  for (float& p : probs) p = std::fabs(p);
  std::vector<float> sums = RandomFloats(heads * length), want = sums;
  for (int64_t hh = 0; hh < heads; ++hh) {
    for (int64_t t = 0; t < length; ++t) {
      double total = 0;
      for (int64_t row = 0; row < group * queries; ++row) total += probs[(hh * group * queries + row) * length + t];
      want[hh * length + t] += static_cast<float>(total / group);
    }
  }
  DeviceArray<float> dprobs(probs.size()), dsums(sums.size());
  dprobs.Upload(probs);
  dsums.Upload(sums);
  CHECK_LAUNCH(LaunchAccumulateAttention(dprobs.data, heads, group, queries, length,
                                         dsums.data, length, nullptr));
  CHECK_CUDA(cudaDeviceSynchronize());
  Report("accumulate attention", RelativeError(dsums.Download(), want), 1e-5);
}

// Milliseconds per call of `body`, by CUDA events over `reps` calls.
template <typename Body>
double TimeMs(int reps, Body body) {
  body();
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  CHECK_CUDA(cudaEventRecord(start));
  for (int i = 0; i < reps; ++i) body();
  CHECK_CUDA(cudaEventRecord(stop));
  CHECK_CUDA(cudaEventSynchronize(stop));
  float ms = 0;
  CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms / reps;
}

void Benchmark() {
  const size_t bytes = size_t{1} << 30;
  DeviceArray<uint8_t> a(bytes), b(bytes);
  const double copy_ms = TimeMs(20, [&] { cudaMemcpyAsync(b.data, a.data, bytes, cudaMemcpyDeviceToDevice); });
  // A copy reads and writes every byte.
  const double copy_gbs = 2.0 * bytes / (copy_ms * 1e-3) / 1e9;
  std::printf("\ndevice copy bandwidth (read + write): %.0f GB/s\n\n", copy_gbs);
  std::printf("| decode attention (scores + weighted values) | heads | tokens | us | cache GB/s | of copy |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  // 256 KV heads: the heads of a batch of sequences and layers, enough to fill the GPU.
  const int64_t heads = 256, dim = 64, group = 32, m = 3;
  for (int bits : {8, 4}) {
    for (int64_t tokens : {1024, 4096, 8192, 32768}) {
      const HostCache h = MakeCache(bits, heads, tokens, dim, group);
      DeviceCache d(h);
      DeviceArray<float> q(heads * m * dim), w(heads * m * tokens), scores(heads * m * tokens), out(heads * m * dim);
      q.Upload(RandomFloats(q.size));
      w.Upload(RandomFloats(w.size));
      const double ms = TimeMs(20, [&] {
        CHECK_LAUNCH(LaunchAttentionScores(q.data, m, d.rows, scores.data, nullptr));
        CHECK_LAUNCH(LaunchWeightedValues(w.data, m, d.rows, out.data, nullptr));
      });
      // Each kernel reads the whole cache (levels, scales, zeros) once.
      const double cache_bytes = 2.0 * (h.levels.size() + 2 * h.scale.size() * sizeof(__half));
      const double gbs = cache_bytes / (ms * 1e-3) / 1e9;
      std::printf("| int%d fused | %lld | %lld | %.1f | %.0f | %.0f%% |\n", bits, (long long)heads,
                  (long long)tokens, ms * 1e3, gbs, 100.0 * gbs / copy_gbs);
    }
  }
}

}  // namespace
}  // namespace kvlab::kernels::cuda

int main() {
  using namespace kvlab::kernels::cuda;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "no CUDA device\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  const uint64_t seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  rng.seed(seed);
  std::printf("device: %s, seed %llu\n\n", prop.name, (unsigned long long)seed);
  std::printf("| check | max error | bound | result |\n|---|---:|---:|---|\n");
  CheckAttention();
  CheckQuantize();
  CheckGatherAndStats();
  Benchmark();
  std::printf("\n%d failures\n", failures);
  return failures == 0 ? 0 : 1;
}

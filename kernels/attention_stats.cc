#include "kernels/attention_stats.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "kernels/attention_stats_cuda.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"

namespace kvlab::kernels {

namespace {

constexpr int64_t kTokensPerTask = 1024;

}  // namespace

absl::Status AccumulateAttention(const at::Tensor& probs, at::Tensor sums) {
  if (probs.dim() != 4 || sums.dim() != 2 || probs.size(0) != sums.size(0) ||
      probs.size(3) != sums.size(1) || probs.scalar_type() != at::kFloat ||
      sums.scalar_type() != at::kFloat || (sums.size(1) > 1 && sums.stride(1) != 1)) {
    return absl::InvalidArgumentError(
        "accumulate expects probs [heads, group, queries, length] and sums [heads, length] "
        "with contiguous rows, fp32");
  }
  const at::Tensor p = probs.contiguous();
  const int64_t heads = p.size(0), group = p.size(1), queries = p.size(2), length = p.size(3);
  if (length == 0) return absl::OkStatus();
  if (p.is_cuda()) {
#if KVLAB_WITH_CUDA
    return CudaLaunchStatus(
        "accumulate attention",
        cuda::LaunchAccumulateAttention(p.data_ptr<float>(), heads, group, queries, length,
                                        sums.data_ptr<float>(), sums.stride(0),
                                        CurrentCudaStream(p.device())));
#else
    return CudaNotBuilt();
#endif
  }
  const float* in = p.data_ptr<float>();
  float* out = sums.data_ptr<float>();
  const int64_t head_stride = sums.stride(0);
  const float inv_group = 1.0f / static_cast<float>(group);
  const int64_t tasks_per_head = (length + kTokensPerTask - 1) / kTokensPerTask;
  at::parallel_for(0, heads * tasks_per_head, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t h = task / tasks_per_head;
      const int64_t first = (task % tasks_per_head) * kTokensPerTask;
      const int64_t last = std::min(length, first + kTokensPerTask);
      float* dst = out + h * head_stride;
      for (int64_t row = 0; row < group * queries; ++row) {
        const float* src = in + (h * group * queries + row) * length;
        for (int64_t t = first; t < last; ++t) dst[t] += inv_group * src[t];
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace kvlab::kernels

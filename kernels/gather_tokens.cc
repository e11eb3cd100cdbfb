#include "kernels/gather_tokens.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "kernels/cuda_build.h"
#include "kernels/cuda_stream.h"
#include "kernels/gather_tokens_cuda.h"

namespace kvlab::kernels {

absl::Status GatherTokens(at::Tensor& buffer, int64_t length, const at::Tensor& keep) {
  if (buffer.dim() < 2 || !buffer.is_contiguous() || length > buffer.size(1)) {
    return absl::InvalidArgumentError("gather needs a contiguous [heads, capacity, ...] buffer");
  }
  const int64_t heads = buffer.size(0);
  if (keep.dim() != 2 || keep.size(0) != heads || keep.size(1) > length ||
      keep.scalar_type() != at::kLong) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "keep must be int64 [%d, m <= %d], got %s", heads, length, c10::str(keep.sizes())));
  }
  const int64_t m = keep.size(1);
  if (m == 0) return absl::OkStatus();
  const int64_t row_bytes = buffer.stride(1) * static_cast<int64_t>(buffer.element_size());
  const int64_t head_bytes = buffer.stride(0) * static_cast<int64_t>(buffer.element_size());
  const at::Tensor indices = keep.contiguous();
  if (buffer.is_cuda()) {
#if !KVLAB_WITH_CUDA
    return CudaNotBuilt();
#else
    // Rows may move onto rows another thread still reads: gather into scratch first.
    at::Tensor scratch = at::empty({heads, m, row_bytes}, buffer.options().dtype(at::kByte));
    KVLAB_RETURN_IF_ERROR(CudaLaunchStatus(
        "gather tokens",
        cuda::LaunchGatherRows(static_cast<const uint8_t*>(buffer.data_ptr()), head_bytes,
                               scratch.data_ptr<uint8_t>(), m * row_bytes,
                               indices.data_ptr<int64_t>(), m, heads, m, row_bytes,
                               CurrentCudaStream(buffer.device()))));
    // The scratch rows, reinterpreted in the buffer's dtype and shape, go to the front.
    at::Tensor front = buffer.narrow(1, 0, m);
    front.copy_(scratch.view(buffer.scalar_type()).view(front.sizes()));
    return absl::OkStatus();
#endif
  }
  const int64_t* k = indices.data_ptr<int64_t>();
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < m; ++i) {
      const int64_t src = k[h * m + i];
      if (src < i || src >= length || (i > 0 && src <= k[h * m + i - 1])) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "keep[%d] must be ascending indices below %d", h, length));
      }
    }
  }
  auto* base = static_cast<uint8_t*>(buffer.data_ptr());
  at::parallel_for(0, heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) {
      uint8_t* head = base + h * head_bytes;
      for (int64_t i = 0; i < m; ++i) {
        const int64_t src = k[h * m + i];
        if (src != i) std::memcpy(head + i * row_bytes, head + src * row_bytes, row_bytes);
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace kvlab::kernels

// QuantizeJob: one quantize-on-append call, shared by the CPU and CUDA kernels behind
// quantize_rows.h (no ATen here, so .cu files include it). quantize_rows.cc fills it
// from an IntegerFormat and the checked tensors.
#ifndef KVLAB_KERNELS_QUANTIZE_JOB_H_
#define KVLAB_KERNELS_QUANTIZE_JOB_H_

#include "kernels/quantized_rows.h"

namespace kvlab::kernels {

// Quantizes x [heads, tokens, dim] (fp32, contiguous) into `out`, whose levels are
// contiguous [heads, tokens, packed bytes] and whose scales (and zero points, unless
// out.zero is nullptr: symmetric) are contiguous [heads, tokens, dim / group] per
// token, or [heads, 1, dim] per channel (out.scale_row_stride 0: every token reads
// that one row). Per token: groups are (row, group) pairs, values contiguous. Per
// channel: groups are (head, channel) pairs over the tokens, values strided by dim.
struct QuantizeJob {
  const float* x = nullptr;
  QuantizedRows out;
  bool per_channel = false;
  bool ggml = false;  // IntegerFormat::Rounding::kGgml

  KVLAB_HOST_DEVICE bool symmetric() const { return out.zero == nullptr; }
};

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_QUANTIZE_JOB_H_

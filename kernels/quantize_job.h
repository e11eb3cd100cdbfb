// QuantizeJob: the raw description of one quantize-on-append call, shared by the CPU
// and CUDA kernels behind quantize_rows.h (no ATen here, so .cu files include it).
// quantize_rows.cc fills it from an IntegerFormat and the checked tensors.
#ifndef KVLAB_KERNELS_QUANTIZE_JOB_H_
#define KVLAB_KERNELS_QUANTIZE_JOB_H_

#include <cstdint>

#include "kernels/quantized_rows.h"

namespace kvlab::kernels {

// The shape of one quantization call: `groups` groups of `count` values; value i of
// group g sits at x[g_base(g) + i * value_stride] (fp32), and its level goes to
// levels[l_base(g) + ...] as laid out in quantized_rows.h. Per token: groups are
// (row, group) pairs, values contiguous. Per channel: groups are (head, channel) pairs,
// values strided by dim.
struct QuantizeJob {
  const float* x = nullptr;
  uint8_t* levels = nullptr;
  void* scale = nullptr;
  void* zero = nullptr;  // nullptr when symmetric
  ScaleType scale_type = ScaleType::kFloat32;
  int bits = 8;
  bool symmetric = false;
  bool ggml = false;  // IntegerFormat::Rounding::kGgml
  bool per_channel = false;
  int64_t heads = 0;
  int64_t tokens = 0;
  int64_t dim = 0;
  int64_t group = 0;  // per token only
};

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_QUANTIZE_JOB_H_

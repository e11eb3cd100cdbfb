// QuantizedRows: the one raw description of stored K or V rows, which the CPU and CUDA
// kernels read and quantize-on-append writes (no ATen here, so .cu files include it).
// cache_views.h fills it from checked tensors.
//
// Row t of head h starts at data + h * head_stride + t * row_stride (bytes) and holds
// `dim` elements encoded as `encoding` says: dense floats, or unsigned integer levels
// read back as (level - offset) * scale + zero. Levels narrower than a byte pack low
// bits first (4 bits: channel 2i in byte i's low nibble; kernels/integer_format.h).
// Channel c of a quantized row takes its scale and zero from element c / group of a
// scale row, which is row t for per-token groups (block_of == nullptr) and row
// block_of[h, t] for per-channel blocks (group == 1). Scale, zero and block strides
// count elements of their arrays.
//
// The pointers are not const because quantize-on-append writes through the same
// description (quantize_job.h); the attention kernels only read.
#ifndef KVLAB_KERNELS_QUANTIZED_ROWS_H_
#define KVLAB_KERNELS_QUANTIZED_ROWS_H_

#include <cstdint>

#include "kernels/host_device.h"

namespace kvlab::kernels {

// How one stored number is encoded: a row's elements (any of these), or its scales
// and zero points (kFloat32, kFloat16 or kBFloat16).
enum class Encoding : int {
  kInt8 = 0,
  kInt4 = 1,
  kInt2 = 2,  // Read and written on the CPU only.
  kFloat32 = 3,
  kFloat16 = 4,
  kBFloat16 = 5,
};

KVLAB_HOST_DEVICE constexpr int BitsOf(Encoding encoding) {
  switch (encoding) {
    case Encoding::kInt8: return 8;
    case Encoding::kInt4: return 4;
    case Encoding::kInt2: return 2;
    case Encoding::kFloat16:
    case Encoding::kBFloat16: return 16;
    case Encoding::kFloat32: return 32;
  }
  return 0;
}

// Integer levels (with scales), as opposed to dense floats.
KVLAB_HOST_DEVICE constexpr bool IsQuantized(Encoding encoding) {
  return encoding == Encoding::kInt8 || encoding == Encoding::kInt4 ||
         encoding == Encoding::kInt2;
}

struct QuantizedRows {
  Encoding encoding = Encoding::kFloat32;
  void* data = nullptr;
  int64_t head_stride = 0;  // Bytes.
  int64_t row_stride = 0;   // Bytes.
  int64_t dim = 0;
  int64_t heads = 0;
  int64_t tokens = 0;
  // Quantized rows only.
  Encoding scale_encoding = Encoding::kFloat32;
  void* scale = nullptr;
  void* zero = nullptr;  // nullptr: symmetric, no zero point
  int64_t scale_head_stride = 0;
  int64_t scale_row_stride = 0;
  int64_t* block_of = nullptr;  // nullptr: per-token groups
  int64_t block_head_stride = 0;
  int64_t block_row_stride = 0;
  int64_t group = 1;
  int offset = 0;

  // The first byte of row (h, t).
  KVLAB_HOST_DEVICE uint8_t* Row(int64_t h, int64_t t) const {
    return static_cast<uint8_t*>(data) + h * head_stride + t * row_stride;
  }
  // Where, in scale and zero, the scale row of token t of head h starts.
  KVLAB_HOST_DEVICE int64_t ScaleRowStart(int64_t h, int64_t t) const {
    const int64_t row =
        block_of == nullptr ? t : block_of[h * block_head_stride + t * block_row_stride];
    return h * scale_head_stride + row * scale_row_stride;
  }
};

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_QUANTIZED_ROWS_H_

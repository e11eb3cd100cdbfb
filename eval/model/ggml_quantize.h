// QuantizeRows: fp32 values into a GGUF block format with ggml's reference quantizers
// (those llama.cpp's converter and llama-quantize use without an importance matrix),
// for writing test models in every type.
#ifndef KVLAB_EVAL_MODEL_GGML_QUANTIZE_H_
#define KVLAB_EVAL_MODEL_GGML_QUANTIZE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_types.h"

namespace kvlab::model {

// `float_bytes` (rows * cols fp32 values, row-major) as the bytes of a tensor of `type`
// with rows of `cols` elements. InvalidArgument if `cols` is not a whole number of the
// type's blocks or the byte count is not rows * cols floats.
absl::StatusOr<std::string> QuantizeRows(gguf::TensorType type, absl::string_view float_bytes,
                                         int64_t rows, int64_t cols);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGML_QUANTIZE_H_

#include "eval/model/ggml_quantize.h"

#include "absl/strings/str_format.h"
#include "ggml.h"

namespace kvlab::model {

absl::StatusOr<std::string> QuantizeRows(gguf::TensorType type, absl::string_view float_bytes,
                                         int64_t rows, int64_t cols) {
  const auto ggml = static_cast<ggml_type>(type);
  if (cols % ggml_blck_size(ggml) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s rows hold whole blocks of %d, not %d elements", ggml_type_name(ggml),
        ggml_blck_size(ggml), cols));
  }
  if (static_cast<int64_t>(float_bytes.size()) != rows * cols * 4) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "quantizing [%d, %d] needs %d bytes of fp32, got %d", rows, cols, rows * cols * 4,
        float_bytes.size()));
  }
  std::string out(ggml_row_size(ggml, cols) * rows, '\0');
  ggml_quantize_chunk(ggml, reinterpret_cast<const float*>(float_bytes.data()), out.data(),
                      /*start=*/0, rows, cols, /*imatrix=*/nullptr);
  return out;
}

}  // namespace kvlab::model

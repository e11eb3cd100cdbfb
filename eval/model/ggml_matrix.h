// GgmlMatrix: one GGUF projection tensor [out, in] kept in its own block format (F32,
// F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K .. Q6_K), its data the file's mapped
// bytes (nothing is copied), multiplied by ggml's CPU kernels (ggml_cpu.h).
//
//   KVLAB_ASSIGN_OR_RETURN(GgmlMatrix w, GgmlMatrix::Create(file.path(), *info, bytes));
//   KVLAB_RETURN_IF_ERROR(GgmlMatrix::Multiply({&w}, x, rows, {y}, threads));
//
// Arithmetic is ggml's own, as llama.cpp runs it: the activations are rounded to the
// type the weights' dot product takes (q8_0, q8_1 or q8_K for the quantized types, f16
// or bf16 for those, f32 for f32) and the products accumulate in fp32 (or int32 per
// block). Copies share the tensor; the mapped file must outlive every copy.
#ifndef KVLAB_EVAL_MODEL_GGML_MATRIX_H_
#define KVLAB_EVAL_MODEL_GGML_MATRIX_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/gguf/gguf_file.h"

struct ggml_tensor;

namespace kvlab::model {

// True for the block formats GgmlMatrix multiplies.
bool IsNativeWeightType(gguf::TensorType type);

class GgmlMatrix {
 public:
  // The tensor `info` of `file_name`, whose data are `bytes` (inside the mapping), as a
  // [rows, cols] = TorchShape() matrix. Unimplemented naming the file, tensor and type
  // for a type not above; InvalidArgument if it is not 2-D, its bytes do not match its
  // type and shape, or they are not 32-byte aligned.
  static absl::StatusOr<GgmlMatrix> Create(const std::string& file_name,
                                           const gguf::TensorInfo& info,
                                           absl::Span<const uint8_t> bytes);

  int64_t rows() const;  // Output features.
  int64_t cols() const;  // Input features.
  gguf::TensorType type() const;
  // Bytes of the block-format data (what the model keeps resident).
  int64_t ByteSize() const;
  bool SharesWith(const GgmlMatrix& other) const { return tensor_ == other.tensor_; }

  // Row `row`, dequantized to fp32 into `out` (cols() floats).
  void DequantizeRow(int64_t row, float* out) const;

  // y = [x W_0^T, x W_1^T, ...] for matrices W_i of the same cols(): x is [rows, cols]
  // fp32 (row-major), y [rows, sum of W_i.rows()] fp32, W_i's outputs side by side in
  // this order. Split into `threads` graphs
  // (by rows of x when there are many, else by the weights' output features) run on
  // ATen's threads, one graph per thread: the same products whichever the split.
  static absl::Status Multiply(absl::Span<const GgmlMatrix* const> weights, const float* x,
                               int64_t rows, float* y, int threads);

  // ggml multiplies the K-quant formats (Q2_K .. Q6_K) with one kernel below this many
  // rows of x and with another (tiled) from it on, and the two sum in different orders.
  // From this many rows on, a row's product is the same whichever rows share the call.
  static constexpr int64_t kRowIndependentRows = 8;

 private:
  struct Tensor;  // The ggml context, tensor and host buffer that wrap the bytes.
  explicit GgmlMatrix(std::shared_ptr<const Tensor> tensor) : tensor_(std::move(tensor)) {}

  std::shared_ptr<const Tensor> tensor_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGML_MATRIX_H_

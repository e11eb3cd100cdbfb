#include "eval/model/projection.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <vector>

namespace kvlab::model {

int64_t Projection::out_features() const {
  if (!native()) return matrix_.size(0);
  int64_t out = 0;
  for (const GgmlMatrix& part : parts_) out += part.rows();
  return out;
}

int64_t Projection::in_features() const {
  return native() ? parts_[0].cols() : matrix_.size(1);
}

int64_t Projection::ByteSize() const {
  if (!native()) return static_cast<int64_t>(matrix_.nbytes());
  int64_t bytes = 0;
  for (const GgmlMatrix& part : parts_) bytes += part.ByteSize();
  return bytes;
}

bool Projection::SharesWith(const Projection& other) const {
  if (!native()) return matrix_.defined() && matrix_.is_same(other.matrix_);
  return other.native() && parts_.size() == other.parts_.size() &&
         parts_[0].SharesWith(other.parts_[0]);
}

at::Tensor Projection::Apply(const at::Tensor& x) const {
  if (!native()) {
    if (matrix_.scalar_type() == at::kFloat) return at::linear(x, matrix_);
    return at::linear(x.to(matrix_.scalar_type()), matrix_).to(at::kFloat);
  }
  TORCH_CHECK(x.is_cpu() && x.scalar_type() == at::kFloat,
              "native weights multiply fp32 CPU activations, got ", x.toString());
  const int64_t in = in_features();
  TORCH_CHECK(x.size(-1) == in, "native projection expects ", in, " input features, got ",
              x.size(-1));
  const int64_t rows = x.numel() / in;
  const int64_t padded_rows = std::max(rows, min_rows_);
  at::Tensor input = x.reshape({rows, in}).contiguous();
  if (padded_rows > rows) {
    at::Tensor padded = at::zeros({padded_rows, in}, x.options());
    padded.narrow(0, 0, rows).copy_(input);
    input = std::move(padded);
  }
  std::vector<const GgmlMatrix*> weights;
  for (const GgmlMatrix& part : parts_) weights.push_back(&part);
  // The parts' outputs are written side by side into one matrix: no concatenation.
  at::Tensor y = at::empty({padded_rows, out_features()}, x.options());
  const absl::Status status = GgmlMatrix::Multiply(
      weights, input.data_ptr<float>(), padded_rows, y.data_ptr<float>(), at::get_num_threads());
  TORCH_CHECK(status.ok(), status.ToString());
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out_features();
  return (padded_rows > rows ? y.narrow(0, 0, rows) : y).view(shape);
}

at::Tensor Projection::Rows(const at::Tensor& ids) const {
  if (!native()) return at::embedding(matrix_, ids).to(at::kFloat);
  TORCH_CHECK(parts_.size() == 1, "an embedding table is one tensor");
  const at::Tensor flat = ids.to(at::kCPU, at::kLong).contiguous().view(-1);
  const int64_t in = in_features(), count = flat.numel();
  at::Tensor rows = at::empty({count, in}, at::kFloat);
  const int64_t* id = flat.data_ptr<int64_t>();
  float* out = rows.data_ptr<float>();
  const int64_t vocab = out_features();
  for (int64_t i = 0; i < count; ++i) {
    TORCH_CHECK(id[i] >= 0 && id[i] < vocab, "row ", id[i], " is outside [0, ", vocab, ")");
    parts_[0].DequantizeRow(id[i], out + i * in);
  }
  std::vector<int64_t> shape = ids.sizes().vec();
  shape.push_back(in);
  return rows.view(shape);
}

at::Tensor Linear(const at::Tensor& x, const Projection& weight, const at::Tensor& bias) {
  if (!weight.native() && weight.matrix().scalar_type() == at::kFloat) {
    return at::linear(x, weight.matrix(), bias);
  }
  at::Tensor y = weight.Apply(x);
  return bias.defined() ? y.add_(bias) : y;
}

}  // namespace kvlab::model

#include "eval/model/ggml_matrix.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "eval/gguf/gguf_types.h"
#include "eval/model/ggml_cpu.h"
#include "ggml-backend.h"
#include "ggml.h"

namespace kvlab::model {

bool IsNativeWeightType(gguf::TensorType type) {
  switch (type) {
    case gguf::TensorType::kF32:
    case gguf::TensorType::kF16:
    case gguf::TensorType::kBF16:
    case gguf::TensorType::kQ4_0:
    case gguf::TensorType::kQ4_1:
    case gguf::TensorType::kQ5_0:
    case gguf::TensorType::kQ5_1:
    case gguf::TensorType::kQ8_0:
    case gguf::TensorType::kQ2_K:
    case gguf::TensorType::kQ3_K:
    case gguf::TensorType::kQ4_K:
    case gguf::TensorType::kQ5_K:
    case gguf::TensorType::kQ6_K: return true;
    default: return false;
  }
}

struct GgmlMatrix::Tensor {
  ggml_context* context = nullptr;
  ggml_backend_buffer_t buffer = nullptr;
  ggml_tensor* tensor = nullptr;

  Tensor() = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor() {
    if (buffer != nullptr) ggml_backend_buffer_free(buffer);  // Frees the wrapper only.
    if (context != nullptr) ggml_free(context);
  }
};

absl::StatusOr<GgmlMatrix> GgmlMatrix::Create(const std::string& file_name,
                                              const gguf::TensorInfo& info,
                                              absl::Span<const uint8_t> bytes) {
  if (!IsNativeWeightType(info.type)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tensor '%s' is %s, which native weights do not multiply (F32, F16, BF16, Q4_0, "
        "Q4_1, Q5_0, Q5_1, Q8_0, Q2_K .. Q6_K)",
        file_name, info.name, ggml_type_name(static_cast<ggml_type>(info.type))));
  }
  if (info.dims.size() != 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' has %d dimensions; a native projection is 2-D", file_name, info.name,
        info.dims.size()));
  }
  const auto type = static_cast<ggml_type>(info.type);
  const int64_t cols = info.dims[0], rows = info.dims[1];
  if (cols % ggml_blck_size(type) != 0 ||
      static_cast<uint64_t>(ggml_row_size(type, cols)) * rows != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' holds %d bytes, not those of %s [%d, %d]", file_name, info.name,
        bytes.size(), ggml_type_name(static_cast<ggml_type>(info.type)), rows, cols));
  }
  // ggml's CPU buffers and SIMD loads expect 32-byte alignment (GGUF's default).
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 32 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' is not 32-byte aligned in memory", file_name, info.name));
  }
  KVLAB_ASSIGN_OR_RETURN(GgmlCpu * cpu, GgmlCpu::Get());
  auto tensor = std::make_shared<Tensor>();
  ggml_init_params params = {ggml_tensor_overhead(), nullptr, /*no_alloc=*/true};
  tensor->context = ggml_init(params);
  if (tensor->context == nullptr) return absl::ResourceExhaustedError("ggml_init failed");
  tensor->tensor = ggml_new_tensor_2d(tensor->context, type, cols, rows);
  ggml_set_name(tensor->tensor, info.name.c_str());
  // ggml never writes weights; the mapping is read-only.
  void* data = const_cast<uint8_t*>(bytes.data());
  tensor->buffer =
      ggml_backend_dev_buffer_from_host_ptr(cpu->device(), data, bytes.size(), bytes.size());
  if (tensor->buffer == nullptr) {
    return absl::InternalError(absl::StrFormat(
        "%s: ggml could not wrap tensor '%s' in a CPU buffer", file_name, info.name));
  }
  ggml_backend_buffer_set_usage(tensor->buffer, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
  if (ggml_backend_tensor_alloc(tensor->buffer, tensor->tensor, data) != GGML_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrFormat("%s: ggml could not place tensor '%s'", file_name, info.name));
  }
  return GgmlMatrix(std::move(tensor));
}

int64_t GgmlMatrix::rows() const { return tensor_->tensor->ne[1]; }
int64_t GgmlMatrix::cols() const { return tensor_->tensor->ne[0]; }
gguf::TensorType GgmlMatrix::type() const {
  return static_cast<gguf::TensorType>(tensor_->tensor->type);
}
int64_t GgmlMatrix::ByteSize() const { return ggml_nbytes(tensor_->tensor); }

void GgmlMatrix::DequantizeRow(int64_t row, float* out) const {
  const ggml_tensor* t = tensor_->tensor;
  const auto* bytes = static_cast<const char*>(t->data) + row * t->nb[1];
  if (t->type == GGML_TYPE_F32) {
    std::memcpy(out, bytes, t->ne[0] * sizeof(float));
  } else {
    ggml_get_type_traits(t->type)->to_float(bytes, out, t->ne[0]);
  }
}

namespace {

constexpr int kMaxWeights = 16;
// From this many activation rows per thread on, threads split the rows (each reads
// every weight, which its rows amortise); below it, the weights' output features
// (each thread reads its share of the weights, as a decode step wants).
constexpr int64_t kMinRowsPerTask = 16;

// [begin, end) of part `part` of `count` items split into `parts` near-equal parts.
std::pair<int64_t, int64_t> Share(int64_t count, int64_t part, int64_t parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

}  // namespace

absl::Status GgmlMatrix::Multiply(absl::Span<const GgmlMatrix* const> weights, const float* x,
                                  int64_t rows, float* y, int threads) {
  KVLAB_ASSIGN_OR_RETURN(GgmlCpu * cpu, GgmlCpu::Get());
  if (weights.empty()) return absl::InvalidArgumentError("ggml multiply needs a weight");
  if (weights.size() > kMaxWeights) {
    return absl::InvalidArgumentError("ggml multiply takes at most 16 weights at once");
  }
  const int64_t cols = weights[0]->cols();
  int64_t y_cols = 0;  // y's row stride.
  for (const GgmlMatrix* weight : weights) {
    if (weight->cols() != cols) {
      return absl::InvalidArgumentError("ggml multiply's weights differ in input features");
    }
    y_cols += weight->rows();
  }
  if (rows == 0) return absl::OkStatus();
  const int64_t tasks = std::max(threads, 1);
  const bool split_rows = rows >= kMinRowsPerTask * tasks;

  // Task `task`'s share of every product, as one graph computed on the calling thread.
  const auto run_task = [&](int64_t task) -> absl::Status {
    // The graph's own metadata only: every tensor's data is the caller's or the file's.
    thread_local std::vector<uint8_t> metadata(ggml_tensor_overhead() * (2 * kMaxWeights + 1) +
                                               ggml_graph_overhead_custom(kMaxWeights, false));
    ggml_init_params params = {metadata.size(), metadata.data(), /*no_alloc=*/true};
    ggml_context* context = ggml_init(params);
    ggml_cgraph* graph = ggml_new_graph_custom(context, kMaxWeights, false);
    const auto [first_row, last_row] = split_rows ? Share(rows, task, tasks) : std::pair{0L, rows};
    ggml_tensor* input = ggml_new_tensor_2d(context, GGML_TYPE_F32, cols, last_row - first_row);
    input->data = const_cast<float*>(x + first_row * cols);
    int64_t y_offset = 0;  // Where W_i's outputs start in a row of y.
    for (size_t i = 0; i < weights.size(); ++i) {
      ggml_tensor* weight = weights[i]->tensor_->tensor;
      const int64_t out = weight->ne[1];
      const int64_t offset = y_offset;
      y_offset += out;
      const auto [first_out, last_out] = split_rows ? std::pair{0L, out} : Share(out, task, tasks);
      if (last_out == first_out || last_row == first_row) continue;
      if (last_out - first_out != out) {
        weight = ggml_view_2d(context, weight, cols, last_out - first_out, weight->nb[1],
                              first_out * weight->nb[1]);
      }
      ggml_tensor* product = ggml_mul_mat(context, weight, input);
      // Written in place into y: ggml's matmul honours the destination's row stride.
      product->data = y + first_row * y_cols + offset + first_out;
      product->nb[1] = y_cols * sizeof(float);
      product->nb[2] = product->nb[3] = product->nb[1] * product->ne[1];
      ggml_build_forward_expand(graph, product);
    }
    absl::Status status = absl::OkStatus();
    if (ggml_graph_n_nodes(graph) > 0) status = cpu->Compute(graph, at::get_thread_num());
    ggml_free(context);
    return status;
  };
  if (tasks == 1) return run_task(0);
  std::vector<absl::Status> statuses(tasks);
  at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) statuses[task] = run_task(task);
  });
  for (const absl::Status& status : statuses) KVLAB_RETURN_IF_ERROR(status);
  return absl::OkStatus();
}

}  // namespace kvlab::model

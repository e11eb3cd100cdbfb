#include "eval/model/decoder_model.h"

#include <ATen/ATen.h>

#include <vector>

#include "absl/strings/str_format.h"
#include "base/device.h"
#include "base/status_macros.h"
#include "base/torch_status.h"
#include "core/dense_tensor_store.h"
#include "eval/gguf/gguf_tensor.h"

namespace kvlab::model {

absl::Status CheckLoadOptions(const LoadOptions& options) {
  KVLAB_RETURN_IF_ERROR(CheckDeviceAvailable(options.device));
  if (!gguf::IsLoadableDtype(options.weight_dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model weight dtype must be float32, bfloat16 or float16, not %s",
        c10::toString(options.weight_dtype)));
  }
  if (options.native_weights && !options.device.is_cpu()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "native weights run on the CPU only, not %s", options.device.str()));
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> ModelWeights::Matrix(const std::string& name,
                                                std::vector<int64_t> shape) const {
  KVLAB_ASSIGN_OR_RETURN(at::Tensor t, source_.Load(name, shape, options_.weight_dtype));
  return CatchTorchErrors(
      absl::StrFormat("%s: moving '%s' to %s", source_.name(), name, options_.device.str()),
      [&]() -> absl::StatusOr<at::Tensor> { return t.to(options_.device); });
}

absl::StatusOr<at::Tensor> ModelWeights::Vector(const std::string& name, int64_t size) const {
  KVLAB_ASSIGN_OR_RETURN(at::Tensor t, source_.Load(name, {size}, at::kFloat));
  return t.to(options_.device);
}

absl::StatusOr<Projection> ModelWeights::LoadProjection(const std::vector<Part>& parts) const {
  if (options_.native_weights) {
    std::vector<GgmlMatrix> matrices;
    for (const Part& part : parts) {
      KVLAB_ASSIGN_OR_RETURN(GgmlMatrix matrix, source_.LoadNative(part.name, part.shape));
      matrices.push_back(std::move(matrix));
    }
    return Projection(std::move(matrices), options_.row_independent_products
                                                ? GgmlMatrix::kRowIndependentRows
                                                : 1);
  }
  std::vector<at::Tensor> matrices;
  for (const Part& part : parts) {
    KVLAB_ASSIGN_OR_RETURN(at::Tensor matrix, Matrix(part.name, part.shape));
    matrices.push_back(std::move(matrix));
  }
  // One matrix for Q, K and V (or gate and up) halves the matmul count.
  return Projection(matrices.size() == 1 ? matrices[0] : at::cat(matrices, 0));
}

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  // In place on the temporaries: one allocation of x's size instead of three.
  return (x * x.square().mean(-1, /*keepdim=*/true).add_(eps).rsqrt_()).mul_(weight);
}

absl::Status CheckTokenIds(const at::Tensor& tokens, int64_t vocab) {
  if (tokens.scalar_type() != at::kLong) {
    return absl::InvalidArgumentError("token ids must be int64");
  }
  if (tokens.numel() > 0 &&
      (tokens.min().item<int64_t>() < 0 || tokens.max().item<int64_t>() >= vocab)) {
    return absl::InvalidArgumentError(absl::StrFormat("token ids must be in [0, %d)", vocab));
  }
  return absl::OkStatus();
}

absl::Status CheckForwardArguments(const at::Tensor& tokens, absl::Span<KvCache* const> caches,
                                   int num_layers, int64_t vocab, c10::Device device) {
  if (tokens.dim() != 2 || tokens.scalar_type() != at::kLong) {
    return absl::InvalidArgumentError("forward expects int64 tokens [batch, n]");
  }
  if (static_cast<int64_t>(caches.size()) != tokens.size(0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "forward got %d caches for a batch of %d", caches.size(), tokens.size(0)));
  }
  for (KvCache* cache : caches) {
    if (cache == nullptr || cache->num_layers() != num_layers) {
      return absl::InvalidArgumentError(
          absl::StrFormat("forward needs one cache of %d layers per row", num_layers));
    }
  }
  if (tokens.is_cpu()) return CheckTokenIds(tokens, vocab);
  if (tokens.device() != device) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "forward got tokens on %s for a model on %s", tokens.device().str(), device.str()));
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> AttendPerRow(int layer, const at::Tensor& queries,
                                        const at::Tensor& keys, const at::Tensor& values,
                                        int64_t first_position,
                                        absl::Span<KvCache* const> caches) {
  const int64_t batch = queries.size(0), q_heads = queries.size(1), n = queries.size(2),
                d = queries.size(3);
  std::vector<at::Tensor> attended;
  attended.reserve(batch);
  for (int64_t b = 0; b < batch; ++b) {
    AttentionInputs inputs;
    inputs.queries = queries[b].contiguous();
    inputs.keys = keys[b].contiguous();
    inputs.values = values[b].contiguous();
    inputs.first_position = first_position;
    KVLAB_ASSIGN_OR_RETURN(AttentionResult result, caches[b]->Attend(layer, inputs));
    attended.push_back(std::move(result.output));
  }
  // [batch, q_heads, n, d] -> [batch, n, q_heads * d]
  return at::stack(attended).transpose(1, 2).reshape({batch, n, q_heads * d});
}

absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCacheFor(const AttentionShape& shape,
                                                          const LayerRopes& ropes,
                                                          c10::Device device) {
  const TensorStoreFactory dense = [shape, device](int) -> absl::StatusOr<std::unique_ptr<TensorStore>> {
    KVLAB_ASSIGN_OR_RETURN(auto store, DenseTensorStore::Create(shape.kv_heads, shape.head_dim,
                                                                at::kFloat, device));
    return std::unique_ptr<TensorStore>(std::move(store));
  };
  KVLAB_ASSIGN_OR_RETURN(auto cache, BaseKvCache::Create(shape, ropes, PositionMode::kOriginal,
                                                         device, dense, dense));
  return std::unique_ptr<KvCache>(std::move(cache));
}

}  // namespace kvlab::model

#include "eval/safetensors/safetensors_tensor.h"

#include <ATen/ATen.h>

#include <cstring>
#include <optional>

#include "absl/strings/str_format.h"

namespace kvlab::safetensors {

namespace {

std::optional<at::ScalarType> AtenDtype(Dtype dtype) {
  switch (dtype) {
    case Dtype::kF32: return at::kFloat;
    case Dtype::kF16: return at::kHalf;
    case Dtype::kBF16: return at::kBFloat16;
    default: return std::nullopt;
  }
}

}  // namespace

absl::StatusOr<at::Tensor> LoadTensor(const SafetensorsFile& file,
                                      const SafetensorsTensor& tensor, at::ScalarType dtype) {
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tensor '%s' can load as float32, bfloat16 or float16, not %s", file.path(),
        tensor.name, c10::toString(dtype)));
  }
  const std::optional<at::ScalarType> stored = AtenDtype(tensor.dtype);
  if (!stored.has_value()) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tensor '%s' has dtype %s; kvlab loads weights stored as F32, F16 or BF16",
        file.path(), tensor.name, DtypeName(tensor.dtype)));
  }
  const absl::Span<const uint8_t> bytes = file.TensorBytes(tensor);
  const auto options = at::TensorOptions().dtype(*stored);
  // The data section starts wherever the header ends, so a tensor's bytes need not be
  // aligned for its type: an aligned one is read in place, once, by the conversion
  // (or one copy); a misaligned one is copied out first.
  if (reinterpret_cast<uintptr_t>(bytes.data()) % DtypeBytes(tensor.dtype) == 0) {
    const at::Tensor view =
        at::from_blob(const_cast<uint8_t*>(bytes.data()), tensor.shape, options);
    return view.to(dtype, /*non_blocking=*/false, /*copy=*/true);
  }
  at::Tensor copy = at::empty(tensor.shape, options);
  if (!bytes.empty()) std::memcpy(copy.data_ptr(), bytes.data(), bytes.size());
  return copy.to(dtype);
}

}  // namespace kvlab::safetensors

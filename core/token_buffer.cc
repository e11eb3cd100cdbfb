#include "core/token_buffer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "kernels/gather_tokens.h"

namespace kvlab {

TokenBuffer::TokenBuffer(int64_t heads, std::vector<int64_t> trailing, at::TensorOptions options)
    : heads_(heads), trailing_(std::move(trailing)), options_(options) {
  int64_t elements = heads_;
  for (int64_t d : trailing_) elements *= d;
  bytes_per_token_ = elements * static_cast<int64_t>(c10::elementSize(
                                    c10::typeMetaToScalarType(options_.dtype())));
}

void TokenBuffer::Reallocate(int64_t capacity) {
  std::vector<int64_t> shape = {heads_, capacity};
  shape.insert(shape.end(), trailing_.begin(), trailing_.end());
  at::Tensor fresh = at::empty(shape, options_);
  if (length_ > 0) fresh.narrow(1, 0, length_).copy_(buffer_.narrow(1, 0, length_));
  buffer_ = std::move(fresh);
}

absl::Status TokenBuffer::Append(const at::Tensor& x) {
  const bool shape_ok = x.dim() == 2 + static_cast<int64_t>(trailing_.size()) &&
                        x.size(0) == heads_ &&
                        std::equal(trailing_.begin(), trailing_.end(), x.sizes().begin() + 2);
  if (!shape_ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token buffer append expects [%d, n, %s], got %s", heads_, c10::str(trailing_),
        c10::str(x.sizes())));
  }
  const int64_t n = x.size(1);
  if (length_ + n > capacity()) {
    Reallocate(std::max({kMinCapacity, 2 * capacity(), length_ + n}));
  }
  if (x.is_cpu() && buffer_.is_cpu() && x.scalar_type() == buffer_.scalar_type() &&
      x.is_contiguous()) {
    // One memcpy per head: ATen's generic copy costs more than the copy itself for a
    // token or two.
    const int64_t token_bytes = bytes_per_token_ / heads_;
    auto* dst = static_cast<uint8_t*>(buffer_.data_ptr());
    const auto* src = static_cast<const uint8_t*>(x.data_ptr());
    for (int64_t h = 0; h < heads_; ++h) {
      std::memcpy(dst + (h * capacity() + length_) * token_bytes, src + h * n * token_bytes,
                  n * token_bytes);
    }
  } else {
    buffer_.narrow(1, length_, n).copy_(x);
  }
  length_ += n;
  return absl::OkStatus();
}

absl::Status TokenBuffer::Retain(const at::Tensor& keep) {
  if (keep.dim() != 2 || keep.size(0) != heads_ || keep.size(1) > length_ ||
      keep.scalar_type() != at::kLong) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "retain expects int64 indices [%d, m <= %d], got %s %s", heads_, length_,
        c10::str(keep.sizes()), c10::toString(keep.scalar_type())));
  }
  const int64_t m = keep.size(1);
  if (m > 0) {
    // Compacts in place: kept tokens move towards the front, nothing is copied twice.
    if (absl::Status status = kernels::GatherTokens(buffer_, length_, keep); !status.ok()) {
      return status;
    }
  }
  length_ = m;
  // Give memory back once less than a quarter of it is live.
  const int64_t target = std::max(kMinCapacity, 2 * m);
  if (capacity() > 2 * target) Reallocate(target);
  return absl::OkStatus();
}

at::Tensor TokenBuffer::View() const {
  if (!buffer_.defined()) {
    std::vector<int64_t> shape = {heads_, 0};
    shape.insert(shape.end(), trailing_.begin(), trailing_.end());
    return at::empty(shape, options_);
  }
  return buffer_.narrow(1, 0, length_);
}

}  // namespace kvlab

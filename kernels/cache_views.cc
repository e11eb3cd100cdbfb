#include "kernels/cache_views.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"

namespace kvlab::kernels {

namespace {

// The encoding of a float tensor's elements: dense rows, scales and zero points.
absl::StatusOr<Encoding> FloatEncodingOf(const at::Tensor& t, const char* name) {
  switch (t.scalar_type()) {
    case at::kFloat: return Encoding::kFloat32;
    case at::kBFloat16: return Encoding::kBFloat16;
    case at::kHalf: return Encoding::kFloat16;
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s must be float32, bfloat16 or float16, got %s", name,
          c10::toString(t.scalar_type())));
  }
}

absl::Status CheckRows(const at::Tensor& t, const char* name, int64_t dims) {
  if (!t.defined() || t.dim() != dims || (dims == 3 && t.size(2) > 1 && t.stride(2) != 1)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s must be a %d-d tensor with contiguous rows", name, dims));
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizedRows> DescribeCommon(const IntegerFormat& format, int64_t dim,
                                             const at::Tensor& levels, const at::Tensor& scale,
                                             const at::Tensor& zero) {
  if (format.bits != 8 && format.bits != 4 && format.bits != 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bits must be 8, 4 or 2, got %d", format.bits));
  }
  if (absl::Status s = CheckRows(levels, "levels", 3); !s.ok()) return s;
  if (absl::Status s = CheckRows(scale, "scale", 3); !s.ok()) return s;
  const int64_t packed = format.PackedBytes(dim);
  if (levels.scalar_type() != at::kByte || levels.size(2) != packed) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "levels must be uint8 [heads, tokens, %d]", packed));
  }
  if (scale.scalar_type() != format.scale_dtype) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "scale must be %s as the format says, got %s", c10::toString(format.scale_dtype),
        c10::toString(scale.scalar_type())));
  }
  if (zero.defined() && (zero.sizes() != scale.sizes() || zero.strides() != scale.strides() ||
                         zero.scalar_type() != scale.scalar_type())) {
    return absl::InvalidArgumentError("zero must match scale in shape, strides and dtype");
  }
  QuantizedRows rows;
  rows.encoding = format.bits == 8 ? Encoding::kInt8
                  : format.bits == 4 ? Encoding::kInt4
                                     : Encoding::kInt2;
  rows.data = levels.data_ptr<uint8_t>();  // uint8: strides are bytes already.
  rows.head_stride = levels.stride(0);
  rows.row_stride = levels.stride(1);
  auto encoding = FloatEncodingOf(scale, "scales");
  if (!encoding.ok()) return encoding.status();
  rows.scale_encoding = *encoding;
  rows.scale = scale.data_ptr();
  rows.zero = zero.defined() ? zero.data_ptr() : nullptr;
  rows.scale_head_stride = scale.stride(0);
  rows.scale_row_stride = scale.stride(1);
  rows.offset = static_cast<int>(format.offset());
  rows.dim = dim;
  rows.heads = levels.size(0);
  rows.tokens = levels.size(1);
  return rows;
}

at::Tensor NarrowIfDefined(const at::Tensor& t, int64_t start, int64_t count) {
  return t.defined() ? t.narrow(1, start, count) : t;
}

}  // namespace

TokenGroupsView NarrowTokens(const TokenGroupsView& view, int64_t start, int64_t count) {
  TokenGroupsView narrowed = view;
  narrowed.levels = view.levels.narrow(1, start, count);
  narrowed.scale = view.scale.narrow(1, start, count);
  narrowed.zero = NarrowIfDefined(view.zero, start, count);
  return narrowed;
}

ChannelBlocksView NarrowTokens(const ChannelBlocksView& view, int64_t start, int64_t count) {
  ChannelBlocksView narrowed = view;
  narrowed.levels = view.levels.narrow(1, start, count);
  narrowed.block_of = view.block_of.narrow(1, start, count);
  return narrowed;
}

DenseRowsView NarrowTokens(const DenseRowsView& view, int64_t start, int64_t count) {
  return DenseRowsView{view.rows.narrow(1, start, count)};
}

absl::StatusOr<QuantizedRows> Describe(const TokenGroupsView& view) {
  if (view.group < 1 || view.dim % view.group != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("group %d must divide dim %d", view.group, view.dim));
  }
  auto rows = DescribeCommon(view.format, view.dim, view.levels, view.scale, view.zero);
  if (!rows.ok()) return rows;
  if (view.scale.size(0) != rows->heads || view.scale.size(1) != rows->tokens ||
      view.scale.size(2) != view.dim / view.group) {
    return absl::InvalidArgumentError("scale must be [heads, tokens, dim / group]");
  }
  rows->group = view.group;
  return rows;
}

absl::StatusOr<QuantizedRows> Describe(const ChannelBlocksView& view) {
  auto rows = DescribeCommon(view.format, view.dim, view.levels, view.scale, view.zero);
  if (!rows.ok()) return rows;
  if (view.scale.size(0) != rows->heads || view.scale.size(2) != view.dim) {
    return absl::InvalidArgumentError("scale must be [heads, blocks, dim]");
  }
  if (!view.block_of.defined() || view.block_of.scalar_type() != at::kLong ||
      view.block_of.dim() != 2 || view.block_of.size(0) != rows->heads ||
      view.block_of.size(1) != rows->tokens) {
    return absl::InvalidArgumentError("block_of must be int64 [heads, tokens]");
  }
  rows->block_of = view.block_of.data_ptr<int64_t>();
  rows->block_head_stride = view.block_of.stride(0);
  rows->block_row_stride = view.block_of.stride(1);
  rows->group = 1;
  return rows;
}

absl::StatusOr<QuantizedRows> Describe(const DenseRowsView& view) {
  if (absl::Status s = CheckRows(view.rows, "rows", 3); !s.ok()) return s;
  auto encoding = FloatEncodingOf(view.rows, "dense rows");
  if (!encoding.ok()) return encoding.status();
  QuantizedRows rows;
  rows.encoding = *encoding;
  rows.data = view.rows.data_ptr();
  rows.head_stride = view.rows.stride(0) * view.rows.element_size();
  rows.row_stride = view.rows.stride(1) * view.rows.element_size();
  rows.dim = view.rows.size(2);
  rows.group = 1;
  rows.heads = view.rows.size(0);
  rows.tokens = view.rows.size(1);
  return rows;
}

}  // namespace kvlab::kernels

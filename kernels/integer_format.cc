#include "kernels/integer_format.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"

namespace kvlab::kernels {

namespace {

// One step of the storage dtype's precision, relative.
double RelativeStep(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16: return 1.0 / 128;
    case at::kHalf: return 1.0 / 1024;
    default: return 0.0;
  }
}

// Rounds a non-negative fp32 scale to `dtype`, never below its exact value.
at::Tensor RoundScaleUp(const at::Tensor& scale, at::ScalarType dtype) {
  if (dtype == at::kFloat) return scale;
  const at::Tensor rounded = scale.to(dtype);
  const at::Tensor bumped = (scale * (1.0 + RelativeStep(dtype))).to(dtype);
  return at::where(rounded.to(at::kFloat) < scale, bumped, rounded);
}

// ggml's q4_0 / q4_1 reference rule (see integer_format.h), in fp32 as ggml computes it.
QuantizedGroups QuantizeGgml(const IntegerFormat& format, const at::Tensor& xf) {
  QuantizedGroups out;
  const double offset = static_cast<double>(format.offset());
  at::Tensor d;
  at::Tensor origin;
  if (format.symmetric) {
    // The first value of largest magnitude, sign kept (argmax returns the first).
    const at::Tensor signed_max = xf.gather(-1, xf.abs().argmax(-1, /*keepdim=*/true));
    d = signed_max / -offset;
    origin = at::zeros_like(d);
  } else {
    origin = xf.amin(-1, /*keepdim=*/true);
    d = (xf.amax(-1, /*keepdim=*/true) - origin) / static_cast<double>(format.max_level());
    out.zero = origin.to(format.scale_dtype);
  }
  const at::Tensor inverse = at::where(d != 0, d.reciprocal(), at::zeros_like(d));
  out.scale = d.to(format.scale_dtype);
  const at::Tensor level = at::floor((xf - origin) * inverse + (offset + 0.5));
  out.levels = level.clamp(0, static_cast<double>(format.max_level())).to(at::kByte);
  return out;
}

}  // namespace

std::string IntegerFormat::Describe() const {
  return absl::StrFormat("int%d-%s%s", bits, symmetric ? "sym" : "asym",
                         rounding == Rounding::kGgml ? "-ggml" : "");
}

absl::StatusOr<QuantizedGroups> QuantizeGroups(const IntegerFormat& format, const at::Tensor& x) {
  if (!at::isfinite(x).all().item<bool>()) {
    return absl::InvalidArgumentError("cannot quantize values that include NaN or Inf");
  }
  const at::Tensor xf = x.to(at::kFloat);
  if (format.rounding == IntegerFormat::Rounding::kGgml) return QuantizeGgml(format, xf);
  QuantizedGroups out;
  at::Tensor exact_scale;
  at::Tensor zero;  // fp32 as stored
  if (format.symmetric) {
    const double top = static_cast<double>(format.offset() - 1);  // 127 or 7
    exact_scale = xf.abs().amax(-1, /*keepdim=*/true) / top;
  } else {
    const at::Tensor lo = xf.amin(-1, /*keepdim=*/true);
    const at::Tensor hi = xf.amax(-1, /*keepdim=*/true);
    out.zero = lo.to(format.scale_dtype);
    zero = out.zero.to(at::kFloat);
    // The range from the stored zero point, so rounding the zero cannot push the
    // maximum past the top level.
    exact_scale = (hi - zero).clamp_min(0) / static_cast<double>(format.max_level());
  }
  out.scale = RoundScaleUp(exact_scale, format.scale_dtype);
  const at::Tensor scale = out.scale.to(at::kFloat);
  // A constant group has scale 0: every level is the offset and reads back exactly.
  const at::Tensor safe = at::where(scale > 0, scale, at::ones_like(scale));
  at::Tensor level = format.symmetric ? xf / safe : (xf - zero) / safe;
  level = at::round(level) + static_cast<double>(format.offset());
  out.levels = level.clamp(0, static_cast<double>(format.max_level())).to(at::kByte);
  return out;
}

at::Tensor DequantizeLevels(const IntegerFormat& format, const at::Tensor& levels,
                            const at::Tensor& scale, const at::Tensor& zero) {
  at::Tensor x = (levels.to(at::kFloat) - static_cast<double>(format.offset())) *
                 scale.to(at::kFloat);
  if (!format.symmetric) x = x + zero.to(at::kFloat);
  return x;
}

at::Tensor PackLevels(const IntegerFormat& format, const at::Tensor& levels) {
  if (format.bits == 8) return levels;
  const int64_t per_byte = 8 / format.bits;
  at::Tensor whole = levels;
  if (const int64_t rest = levels.size(-1) % per_byte; rest != 0) {
    std::vector<int64_t> pad(levels.sizes().begin(), levels.sizes().end());
    pad.back() = per_byte - rest;
    whole = at::cat({levels, at::zeros(pad, levels.options())}, -1);
  }
  const at::Tensor groups = whole.unflatten(-1, {whole.size(-1) / per_byte, per_byte});
  at::Tensor packed = groups.select(-1, 0).clone();
  for (int64_t j = 1; j < per_byte; ++j) {
    packed.bitwise_or_(at::bitwise_left_shift(groups.select(-1, j), j * format.bits));
  }
  return packed;
}

at::Tensor UnpackLevels(const IntegerFormat& format, const at::Tensor& packed, int64_t d) {
  if (format.bits == 8) return packed;
  const int64_t per_byte = 8 / format.bits;
  const int64_t mask = (int64_t{1} << format.bits) - 1;
  std::vector<at::Tensor> parts;
  for (int64_t j = 0; j < per_byte; ++j) {
    parts.push_back(at::bitwise_and(at::bitwise_right_shift(packed, j * format.bits), mask));
  }
  const at::Tensor all = at::stack(parts, -1).flatten(-2);
  return all.size(-1) == d ? all : all.narrow(-1, 0, d);
}

}  // namespace kvlab::kernels

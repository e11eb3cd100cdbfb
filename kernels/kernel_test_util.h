// Helpers for kernel tests: fresh random seeds, poisoned outputs, strided views.
#ifndef KVLAB_KERNELS_KERNEL_TEST_UTIL_H_
#define KVLAB_KERNELS_KERNEL_TEST_UTIL_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <limits>
#include <random>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "kernels/integer_format.h"

namespace kvlab::kernels::testing {

// Seeds ATen's generator from the OS so every run sees fresh inputs; the seed is
// recorded in the test's output so that a failure can be replayed.
inline uint64_t FreshSeed() {
  const uint64_t seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  at::manual_seed(seed);
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

// A tensor of `shape` filled with NaN: any element a kernel fails to write shows.
inline at::Tensor Poisoned(at::IntArrayRef shape) {
  return at::full(shape, std::numeric_limits<float>::quiet_NaN());
}

// x [heads, n, ...] copied into the front of a larger buffer, returned as the narrowed
// view: strided along tokens the way TokenBuffer views are.
inline at::Tensor InsideLargerBuffer(const at::Tensor& x) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape[1] = x.size(1) + 37;
  at::Tensor buffer = at::zeros(shape, x.options());
  buffer.narrow(1, 0, x.size(1)).copy_(x);
  return buffer.narrow(1, 0, x.size(1));
}

// Largest |actual - expected| relative to the largest |expected|.
inline double RelativeError(const at::Tensor& actual, const at::Tensor& expected) {
  return ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item<double>();
}

// Names a test parameterised on an IntegerFormat, e.g. "int4_sym_Half".
// ggml's q4_1 (asymmetric) or q4_0 (symmetric) block: IntegerFormat::Rounding::kGgml.
inline IntegerFormat GgmlQ4(bool symmetric) {
  IntegerFormat format{4, symmetric, at::kHalf};
  format.rounding = IntegerFormat::Rounding::kGgml;
  return format;
}

inline std::string FormatTestName(const ::testing::TestParamInfo<IntegerFormat>& info) {
  return absl::StrFormat("int%d_%s_%s%s", info.param.bits, info.param.symmetric ? "sym" : "asym",
                         c10::toString(info.param.scale_dtype),
                         info.param.rounding == IntegerFormat::Rounding::kGgml ? "_ggml" : "");
}

}  // namespace kvlab::kernels::testing

#endif  // KVLAB_KERNELS_KERNEL_TEST_UTIL_H_

#include "eval/gguf/gguf_tensor.h"

#include <ATen/ATen.h>
#include <c10/util/Half.h>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::gguf {
namespace {

using ::testing::HasSubstr;

std::string HalfBytes(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    const uint16_t bits = c10::Half(v).x;
    out.push_back(static_cast<char>(bits & 0xFF));
    out.push_back(static_cast<char>(bits >> 8));
  }
  return out;
}

// One Q4_1 block with d = 0.5 and m = -2 whose nibbles count 0..15 then 15..0.
std::string Q4_1Ramp() {
  std::string block = HalfBytes({0.5f, -2.0f});
  for (int i = 0; i < 16; ++i) block.push_back(static_cast<char>((15 - i) << 4 | i));
  return block;
}

// What Q4_1Ramp() dequantizes to.
at::Tensor Q4_1RampValues() {
  at::Tensor up = at::arange(16, at::kFloat);
  return at::cat({up, up.flip(0)}) * 0.5f - 2.0f;
}

std::unique_ptr<GgufFile> WriteAndOpen(const GgufWriter& w, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_THAT(w.WriteFile(path), IsOk());
  return ValueOrAddFailure(GgufFile::Open(path));
}

TEST(GgufTensorTest, LoadsEveryTypeInTorchOrder) {
  GgufWriter w;
  w.AddTensor("f32", {3, 2}, TensorType::kF32, FloatBytes({0, 1, 2, 3, 4, 5}));
  w.AddTensor("f16", {2}, TensorType::kF16, HalfBytes({0.5f, -4.0f}));
  w.AddTensor("bf16", {1}, TensorType::kBF16, std::string("\xc0\x3f", 2));
  w.AddTensor("q4_1", {32}, TensorType::kQ4_1, Q4_1Ramp());
  std::string q8 = HalfBytes({2.0f});
  for (int i = 0; i < 32; ++i) q8.push_back(static_cast<char>(i));
  w.AddTensor("q8_0", {32}, TensorType::kQ8_0, q8);
  std::string q4_0 = HalfBytes({1.0f}) + std::string(16, '\x88');
  w.AddTensor("q4_0", {32}, TensorType::kQ4_0, q4_0);
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "types.gguf");

  ASSERT_OK_AND_ASSIGN(at::Tensor f32, LoadTensor(*file, "f32", {2, 3}));
  EXPECT_TRUE(at::equal(f32, at::arange(6, at::kFloat).reshape({2, 3})));
  ASSERT_OK_AND_ASSIGN(const at::Tensor f16, LoadTensor(*file, "f16", {2}));
  EXPECT_TRUE(at::equal(f16, at::tensor({0.5f, -4.0f})));
  ASSERT_OK_AND_ASSIGN(const at::Tensor bf16, LoadTensor(*file, "bf16", {1}));
  EXPECT_EQ(bf16.item<float>(), 1.5f);
  ASSERT_OK_AND_ASSIGN(const at::Tensor q4_1, LoadTensor(*file, "q4_1", {32}));
  EXPECT_TRUE(at::equal(q4_1, Q4_1RampValues()));
  ASSERT_OK_AND_ASSIGN(const at::Tensor q8_0, LoadTensor(*file, "q8_0", {32}));
  EXPECT_TRUE(at::equal(q8_0, at::arange(32, at::kFloat) * 2.0f));
  ASSERT_OK_AND_ASSIGN(const at::Tensor q4_0_values, LoadTensor(*file, "q4_0", {32}));
  EXPECT_TRUE(at::equal(q4_0_values, at::zeros({32})));
}

TEST(GgufTensorTest, LoadsAsBFloat16WhenAsked) {
  GgufWriter w;
  w.AddTensor("q4_1", {32}, TensorType::kQ4_1, Q4_1Ramp());
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "bf16_out.gguf");
  ASSERT_OK_AND_ASSIGN(at::Tensor t, LoadTensor(*file, "q4_1", {32}, at::kBFloat16));
  EXPECT_EQ(t.scalar_type(), at::kBFloat16);
  // Multiples of 0.5 in [-2, 5.5] are exact in bfloat16.
  EXPECT_TRUE(at::equal(t.to(at::kFloat), Q4_1RampValues()));
}

TEST(GgufTensorTest, NarrowDtypesRoundEachElementOnceFromFp32) {
  GgufWriter w;
  std::vector<float> values;
  for (int i = 0; i < 64; ++i) values.push_back(1.0f + i / 3.0f - 0.01f * i * i);
  w.AddTensor("w", {32, 2}, TensorType::kF32, FloatBytes(values));
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "narrow.gguf");
  ASSERT_OK_AND_ASSIGN(const at::Tensor fp32, LoadTensor(*file, "w", {2, 32}));
  for (at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    ASSERT_OK_AND_ASSIGN(const at::Tensor t, LoadTensor(*file, "w", {2, 32}, dtype));
    EXPECT_EQ(t.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(t, fp32.to(dtype))) << c10::toString(dtype);
  }
}

TEST(GgufTensorTest, RejectsDtypeItCannotProduce) {
  GgufWriter w;
  w.AddTensor("w", {2}, TensorType::kF32, FloatBytes({1, 2}));
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "int_dtype.gguf");
  EXPECT_THAT(LoadTensor(*file, "w", {2}, at::kInt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'w'"), HasSubstr("not Int"))));
}

TEST(GgufTensorTest, ShapeMismatchNamesTensor) {
  GgufWriter w;
  w.AddTensor("w", {3, 2}, TensorType::kF32, FloatBytes({0, 1, 2, 3, 4, 5}));
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "shape.gguf");
  EXPECT_THAT(LoadTensor(*file, "w", {3, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'w'"), HasSubstr("shape [2, 3], expected [3, 2]"))));
}

TEST(GgufTensorTest, UnsupportedTypeNamesTensorAndType) {
  GgufWriter w;
  w.AddTensor("k", {256}, TensorType::kQ8_K, std::string(292, '\0'));
  std::unique_ptr<GgufFile> file = WriteAndOpen(w, "q8k.gguf");
  ASSERT_OK_AND_ASSIGN(const TensorInfo* k, file->FindTensor("k"));
  EXPECT_THAT(LoadTensor(*file, *k), StatusIs(absl::StatusCode::kUnimplemented,
                                              AllOf(HasSubstr("'k'"), HasSubstr("Q8_K"))));
}

}  // namespace
}  // namespace kvlab::gguf

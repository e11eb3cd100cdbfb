#include "eval/safetensors/safetensors_tensor.h"

#include <ATen/ATen.h>

#include "base/status_matchers.h"
#include "eval/safetensors/half_bytes.h"
#include "eval/safetensors/safetensors_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::safetensors {
namespace {

using ::testing::HasSubstr;

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

const std::vector<float> kValues = {1.0f, -2.5f, 0.1f, 3.0e4f, -7.0e-3f, 0.0f};

TEST(SafetensorsTensorTest, LoadsEachFloatDtypeIntoEachWeightDtype) {
  SafetensorsWriter writer;
  writer.AddTensor("f32", "F32", {2, 3}, F32Bytes(kValues));
  writer.AddTensor("bf16", "BF16", {2, 3}, BF16Bytes(kValues));
  writer.AddTensor("f16", "F16", {2, 3}, F16Bytes(kValues));
  const std::string bytes = writer.Serialize();
  ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::FromBytes("t.safetensors", AsBytes(bytes)));
  const at::Tensor expected = at::tensor(kValues).view({2, 3});
  for (const char* name : {"f32", "bf16", "f16"}) {
    const SafetensorsTensor* t = file->FindTensor(name);
    ASSERT_NE(t, nullptr);
    ASSERT_OK_AND_ASSIGN(const at::Tensor fp32, LoadTensor(*file, *t, at::kFloat));
    EXPECT_EQ(fp32.scalar_type(), at::kFloat);
    EXPECT_EQ(fp32.sizes(), at::IntArrayRef({2, 3}));
    // Stored narrower than fp32, each value is the stored one's widening exactly.
    const at::ScalarType stored = t->dtype == Dtype::kBF16  ? at::kBFloat16
                                  : t->dtype == Dtype::kF16 ? at::kHalf
                                                            : at::kFloat;
    EXPECT_TRUE(at::equal(fp32, expected.to(stored).to(at::kFloat))) << name;
    for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      ASSERT_OK_AND_ASSIGN(const at::Tensor narrow, LoadTensor(*file, *t, dtype));
      EXPECT_EQ(narrow.scalar_type(), dtype);
      EXPECT_TRUE(at::equal(narrow, fp32.to(dtype))) << name;
    }
  }
}

TEST(SafetensorsTensorTest, ReadsTensorsAtOddOffsets) {
  // A 1-byte tensor first and an unpadded header put the F32 data at odd addresses.
  SafetensorsWriter writer;
  writer.AddTensor("a_byte", "U8", {1}, std::string(1, '\x07'));
  writer.AddTensor("b_f32", "F32", {6}, F32Bytes(kValues));
  const std::string bytes = SafetensorsBytes(writer.HeaderJson(), std::string(1, '\x07') +
                                                                      F32Bytes(kValues));
  ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::FromBytes("t.safetensors", AsBytes(bytes)));
  ASSERT_OK_AND_ASSIGN(const at::Tensor t, LoadTensor(*file, *file->FindTensor("b_f32"), at::kFloat));
  EXPECT_TRUE(at::equal(t, at::tensor(kValues)));
}

TEST(SafetensorsTensorTest, RefusesOtherDtypesNamingTheTensor) {
  SafetensorsWriter writer;
  writer.AddTensor("position_ids", "I64", {2}, std::string(16, '\0'));
  const std::string bytes = writer.Serialize();
  ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::FromBytes("t.safetensors", AsBytes(bytes)));
  const SafetensorsTensor& t = file->tensors()[0];
  EXPECT_THAT(LoadTensor(*file, t, at::kFloat),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("t.safetensors: tensor 'position_ids' has dtype I64")));
  EXPECT_THAT(LoadTensor(*file, t, at::kDouble),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not Double")));
}

}  // namespace
}  // namespace kvlab::safetensors

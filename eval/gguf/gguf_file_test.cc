#include "eval/gguf/gguf_file.h"

#include <fstream>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::gguf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::string WriteBytes(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A small valid file with one value of every type and two tensors.
GgufWriter EveryTypeWriter() {
  GgufWriter w;
  w.AddMetadata("u8", GgufValue::Unsigned(ValueType::kUint8, 200));
  w.AddMetadata("i8", GgufValue::Signed(ValueType::kInt8, -100));
  w.AddMetadata("u16", GgufValue::Unsigned(ValueType::kUint16, 60000));
  w.AddMetadata("i16", GgufValue::Signed(ValueType::kInt16, -30000));
  w.AddMetadata("u32", GgufValue::Unsigned(ValueType::kUint32, 4000000000u));
  w.AddMetadata("i32", GgufValue::Signed(ValueType::kInt32, -2000000000));
  w.AddMetadata("u64", GgufValue::Unsigned(ValueType::kUint64, uint64_t{1} << 40));
  w.AddMetadata("i64", GgufValue::Signed(ValueType::kInt64, -(int64_t{1} << 40)));
  w.AddMetadata("f32", GgufValue::Float(ValueType::kFloat32, 0.5));
  w.AddMetadata("f64", GgufValue::Float(ValueType::kFloat64, 1e-300));
  w.AddMetadata("flag", GgufValue::Bool(true));
  w.AddString("name", "tiny");
  w.AddStringArray("tokens", {"a", "b", "\xc3\xa9"});
  w.AddInt32Array("types", {1, 3, -1});
  GgufValue::Array inner = {GgufValue::Signed(ValueType::kInt32, 7)};
  GgufValue::Array outer = {GgufValue::MakeArray(ValueType::kInt32, inner)};
  w.AddMetadata("nested", GgufValue::MakeArray(ValueType::kArray, outer));
  w.AddTensor("a", {4, 2}, TensorType::kF32, FloatBytes({0, 1, 2, 3, 4, 5, 6, 7}));
  w.AddTensor("b", {32}, TensorType::kQ8_0, std::string(34, '\0'));
  return w;
}

class GgufFileVersionTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufFileVersionTest, ReadsEveryValueTypeAndTensorInfo) {
  GgufWriter w = EveryTypeWriter();
  w.version = GetParam();
  const std::string path = WriteBytes("every_type.gguf", w.Serialize());
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  ASSERT_THAT(file, IsOk());
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), GetParam());
  EXPECT_EQ(f.metadata_keys().size(), 15u);
  EXPECT_THAT(f.GetInt("u8"), IsOkAndHolds(200));
  EXPECT_THAT(f.GetInt("i8"), IsOkAndHolds(-100));
  EXPECT_THAT(f.GetInt("u16"), IsOkAndHolds(60000));
  EXPECT_THAT(f.GetInt("i16"), IsOkAndHolds(-30000));
  EXPECT_THAT(f.GetInt("u32"), IsOkAndHolds(4000000000));
  EXPECT_THAT(f.GetInt("i32"), IsOkAndHolds(-2000000000));
  EXPECT_THAT(f.GetInt("u64"), IsOkAndHolds(int64_t{1} << 40));
  EXPECT_THAT(f.GetInt("i64"), IsOkAndHolds(-(int64_t{1} << 40)));
  EXPECT_THAT(f.GetDouble("f32"), IsOkAndHolds(0.5));
  EXPECT_THAT(f.GetDouble("f64"), IsOkAndHolds(1e-300));
  EXPECT_THAT(f.GetBool("flag"), IsOkAndHolds(true));
  EXPECT_THAT(f.GetString("name"), IsOkAndHolds("tiny"));
  EXPECT_THAT(f.GetStringArray("tokens"), IsOkAndHolds(ElementsAre("a", "b", "\xc3\xa9")));
  EXPECT_THAT(f.GetIntArray("types"), IsOkAndHolds(ElementsAre(1, 3, -1)));
  const GgufValue* nested = f.FindMetadata("nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->element_type(), ValueType::kArray);
  ASSERT_OK_AND_ASSIGN(const GgufValue::Array* outer, nested->AsArray());
  ASSERT_EQ(outer->size(), 1u);
  ASSERT_OK_AND_ASSIGN(const GgufValue::Array* inner, (*outer)[0].AsArray());
  ASSERT_FALSE(inner->empty());
  EXPECT_THAT((*inner)[0].AsInt(), IsOkAndHolds(7));

  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo& a = f.tensors()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_THAT(a.dims, ElementsAre(4, 2));
  EXPECT_THAT(a.TorchShape(), ElementsAre(2, 4));
  EXPECT_EQ(a.type, TensorType::kF32);
  EXPECT_EQ(a.byte_size, 32u);
  EXPECT_EQ(a.file_offset % 32, 0u);
  ASSERT_OK_AND_ASSIGN(const TensorInfo* found_b, f.FindTensor("b"));
  const TensorInfo& b = *found_b;
  EXPECT_EQ(b.type, TensorType::kQ8_0);
  EXPECT_EQ(b.byte_size, 34u);
  EXPECT_EQ(b.file_offset % 32, 0u);
  EXPECT_GT(b.file_offset, a.file_offset);
  absl::Span<const uint8_t> bytes = f.TensorBytes(a);
  float second;
  std::memcpy(&second, bytes.data() + 4, 4);
  EXPECT_EQ(second, 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Versions, GgufFileVersionTest, ::testing::Values(2u, 3u));

TEST(GgufFileTest, HonoursCustomAlignment) {
  GgufWriter w = EveryTypeWriter();
  w.alignment = 64;
  w.AddUint32("general.alignment", 64);
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::Open(WriteBytes("align64.gguf", w.Serialize()));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ((*file)->alignment(), 64u);
  for (const TensorInfo& t : (*file)->tensors()) EXPECT_EQ(t.file_offset % 64, 0u);
}

TEST(GgufFileTest, MissingFileIsNotFound) {
  EXPECT_THAT(GgufFile::Open(TempPath("does_not_exist.gguf")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does_not_exist.gguf")));
}

TEST(GgufFileTest, BadMagicNamesFileAndProblem) {
  GgufWriter w = EveryTypeWriter();
  w.magic_override = 0x4c4c4747;  // "GGLL"
  const std::string path = WriteBytes("bad_magic.gguf", w.Serialize());
  EXPECT_THAT(GgufFile::Open(path), StatusIs(absl::StatusCode::kDataLoss,
                                             AllOf(HasSubstr(path), HasSubstr("bad magic"))));
}

TEST(GgufFileTest, UnsupportedVersion) {
  GgufWriter w = EveryTypeWriter();
  w.version = 1;
  EXPECT_THAT(GgufFile::Open(WriteBytes("v1.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("version 1")));
}

TEST(GgufFileTest, EmptyFileIsTruncated) {
  EXPECT_THAT(GgufFile::Open(WriteBytes("empty.gguf", "")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
}

// Every cut through the header and metadata must give an error, never a crash.
TEST(GgufFileTest, EveryTruncationIsAnError) {
  const std::string bytes = EveryTypeWriter().Serialize();
  absl::StatusOr<std::unique_ptr<GgufFile>> whole =
      GgufFile::Open(WriteBytes("whole.gguf", bytes));
  ASSERT_THAT(whole, IsOk());
  const size_t data_end = (*whole)->tensors().back().file_offset + 34;
  for (size_t cut = 0; cut < data_end; ++cut) {
    absl::StatusOr<std::unique_ptr<GgufFile>> file =
        GgufFile::Open(WriteBytes("cut.gguf", bytes.substr(0, cut)));
    EXPECT_THAT(file, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")))
        << "cut at " << cut;
  }
}

TEST(GgufFileTest, UnknownValueType) {
  std::string bytes = EveryTypeWriter().Serialize();
  // The first key "u8" (8-byte length + 2 bytes) starts at offset 24; its type follows.
  const uint32_t bogus = 99;
  std::memcpy(&bytes[24 + 8 + 2], &bogus, 4);
  EXPECT_THAT(GgufFile::Open(WriteBytes("bad_value_type.gguf", bytes)),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("'u8'"), HasSubstr("unknown value type 99"))));
}

TEST(GgufFileTest, UnknownTensorType) {
  GgufWriter w;
  w.AddTensorWithTypeId("weird", {4}, 77, std::string(16, '\0'));
  EXPECT_THAT(GgufFile::Open(WriteBytes("bad_tensor_type.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("'weird'"), HasSubstr("unknown tensor type 77"))));
}

TEST(GgufFileTest, RowNotMultipleOfBlockSize) {
  GgufWriter w;
  w.AddTensor("q", {48}, TensorType::kQ4_0, std::string(27, '\0'));
  EXPECT_THAT(GgufFile::Open(WriteBytes("bad_block.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("multiple of its block size 32")));
}

TEST(GgufFileTest, TensorPastEndOfFile) {
  GgufWriter w;
  // Declares 64 floats but stores 8.
  w.AddTensor("short", {64}, TensorType::kF32, FloatBytes(std::vector<float>(8, 1.0f)));
  EXPECT_THAT(GgufFile::Open(WriteBytes("short_tensor.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("'short'"), HasSubstr("truncated"))));
}

TEST(GgufFileTest, BadAlignmentValue) {
  GgufWriter w = EveryTypeWriter();
  w.AddUint32("general.alignment", 24);
  EXPECT_THAT(GgufFile::Open(WriteBytes("bad_alignment.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("power of two")));
}

TEST(GgufFileTest, TooManyDimensions) {
  GgufWriter w;
  w.AddTensor("t", {1, 1, 1, 1, 1}, TensorType::kF32, FloatBytes({1}));
  EXPECT_THAT(GgufFile::Open(WriteBytes("dims.gguf", w.Serialize())),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("5 dimensions")));
}

TEST(GgufFileTest, HugeCountsAreRejectedWithoutAllocating) {
  std::string bytes = EveryTypeWriter().Serialize();
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(&bytes[16], &huge, 8);  // metadata count
  EXPECT_THAT(GgufFile::Open(WriteBytes("huge.gguf", bytes)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
}

TEST(GgufFileTest, TypedLookupErrorsNameFileAndKey) {
  const std::string path = WriteBytes("lookups.gguf", EveryTypeWriter().Serialize());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  EXPECT_THAT(file->GetInt("missing.key"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(path), HasSubstr("'missing.key' is missing"))));
  EXPECT_THAT(file->GetInt("name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'name'"), HasSubstr("not an integer"))));
  EXPECT_THAT(file->GetStringArray("types"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a string")));
  EXPECT_THAT(file->FindTensor("nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no tensor named 'nope'")));
}

}  // namespace
}  // namespace kvlab::gguf

#include "eval/safetensors/safetensors_file.h"

#include <string>

#include "base/status_matchers.h"
#include "eval/safetensors/safetensors_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::safetensors {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Span<const uint8_t> AsBytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The error of parsing `bytes` as "bad.safetensors"; it must be one line.
absl::Status ParseError(const std::string& bytes) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBytes("bad.safetensors", AsBytes(bytes));
  EXPECT_FALSE(file.ok());
  if (file.ok()) return absl::OkStatus();
  EXPECT_THAT(std::string(file.status().message()), Not(HasSubstr("\n")));
  return file.status();
}

TEST(SafetensorsFileTest, ReadsTensorsAndMetadataFromAMappedFile) {
  SafetensorsWriter writer;
  writer.AddTensor("b", "BF16", {2}, std::string("\x80\x3f\x00\xc0", 4));  // 1, -2
  writer.AddTensor("a", "F32", {2, 3}, F32Bytes({1, 2, 3, 4, 5, 6}));
  writer.AddTensor("empty", "F16", {0, 4}, "");
  writer.AddMetadata("format", "pt");
  const std::string path = ::testing::TempDir() + "/ok.safetensors";
  ASSERT_THAT(writer.WriteFile(path), IsOk());
  ASSERT_OK_AND_ASSIGN(const auto file, SafetensorsFile::Open(path));
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const SafetensorsTensor* a = file->FindTensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, Dtype::kF32);
  EXPECT_THAT(a->shape, ElementsAre(2, 3));
  EXPECT_EQ(a->NumElements(), 6);
  const absl::Span<const uint8_t> bytes = file->TensorBytes(*a);
  ASSERT_EQ(bytes.size(), 24u);
  float third;
  std::memcpy(&third, bytes.data() + 8, 4);
  EXPECT_EQ(third, 3.0f);
  EXPECT_EQ(file->FindTensor("missing"), nullptr);
}

TEST(SafetensorsFileTest, OpenNamesAMissingFile) {
  EXPECT_THAT(SafetensorsFile::Open("/nonexistent/x.safetensors"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/x.safetensors")));
}

TEST(SafetensorsFileTest, RefusesAHeaderLengthPastTheFile) {
  EXPECT_THAT(ParseError(std::string("\x05\x00\x00", 3)), StatusIs(absl::StatusCode::kDataLoss,
                                                   HasSubstr("bad.safetensors: 3 bytes, too short")));
  std::string bytes = SafetensorsBytes("{}", "");
  bytes[0] = 100;
  EXPECT_THAT(ParseError(bytes),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("bad.safetensors: header length 100 runs past the end")));
  bytes = SafetensorsBytes("{}", "");
  bytes[7] = 1;  // 2^56 bytes.
  EXPECT_THAT(ParseError(bytes), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("over the")));
}

TEST(SafetensorsFileTest, RefusesBadJson) {
  EXPECT_THAT(ParseError(SafetensorsBytes("{\"a\": ", "")),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("bad.safetensors: header: not valid JSON")));
  EXPECT_THAT(ParseError(SafetensorsBytes("[1, 2]", "")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("header is a JSON array")));
  EXPECT_THAT(ParseError(SafetensorsBytes(R"({"__metadata__": {"k": 1}})", "")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'k' is not a string")));
}

TEST(SafetensorsFileTest, RefusesMalformedTensorEntries) {
  const auto error = [](const std::string& entry, const std::string& data = "") {
    return ParseError(SafetensorsBytes("{\"w\": " + entry + "}", data));
  };
  EXPECT_THAT(error("3"), StatusIs(absl::StatusCode::kDataLoss,
                                   HasSubstr("tensor 'w' is a JSON number, not an object")));
  EXPECT_THAT(error(R"({"shape": [1], "data_offsets": [0, 4]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tensor 'w' has no dtype")));
  EXPECT_THAT(error(R"({"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 4]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("tensor 'w' has unknown dtype 'Q4_K'")));
  EXPECT_THAT(error(R"({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("shape entry that is not a size")));
  EXPECT_THAT(error(R"({"dtype": "F32", "shape": [1], "data_offsets": [0]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("no data_offsets")));
  EXPECT_THAT(error(R"({"dtype": "F32", "shape": [1], "data_offsets": [4, 0]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("ending before they begin")));
  // Shape and bytes disagree.
  EXPECT_THAT(error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]})", "abcd"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("tensor 'w' holds 4 bytes, but its shape and dtype F32 need 8")));
  EXPECT_THAT(error(R"({"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]})",
                    "abcd"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than 2^62 elements")));
}

TEST(SafetensorsFileTest, RefusesRangesOutsideTheDataOrOverlappingOrLeavingHoles) {
  EXPECT_THAT(
      ParseError(SafetensorsBytes(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                                  "abcd")),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("tensor 'w' ends at data byte 8, past the 4 bytes of data")));
  EXPECT_THAT(
      ParseError(SafetensorsBytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                      "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                  "abcdefgh")),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("tensor 'b' (bytes [4, 8)) overlaps tensor 'a' (bytes [0, 8))")));
  EXPECT_THAT(
      ParseError(SafetensorsBytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                  "abcdefgh")),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("data bytes [0, 4) belong to no tensor")));
  EXPECT_THAT(
      ParseError(SafetensorsBytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                                  "abcdefgh")),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("the tensors cover 4 of the 8 data bytes")));
}

TEST(SafetensorsFileTest, DtypesRoundTripTheirNamesAndSizes) {
  for (const char* name : {"BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16", "BF16",
                           "I32", "U32", "F32", "I64", "U64", "F64"}) {
    const std::optional<Dtype> dtype = ParseDtype(name);
    ASSERT_TRUE(dtype.has_value()) << name;
    EXPECT_EQ(DtypeName(*dtype), name);
  }
  EXPECT_EQ(DtypeBytes(Dtype::kBF16), 2);
  EXPECT_EQ(DtypeBytes(Dtype::kF64), 8);
  EXPECT_FALSE(ParseDtype("f32").has_value());
}

}  // namespace
}  // namespace kvlab::safetensors

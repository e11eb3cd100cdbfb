#include "base/mapped_file.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(MappedFileTest, MapsTheWholeFile) {
  const std::string path = WriteTempFile("abc.bin", "abc");
  absl::StatusOr<MappedFile> file = MappedFile::Open(path, "test file");
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->bytes(), ElementsAre('a', 'b', 'c'));
}

TEST(MappedFileTest, BytesOutliveTheFilesName) {
  const std::string path = WriteTempFile("removed.bin", "xyz");
  absl::StatusOr<MappedFile> file = MappedFile::Open(path, "test file");
  ASSERT_THAT(file, IsOk());
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_THAT(file->bytes(), ElementsAre('x', 'y', 'z'));
}

TEST(MappedFileTest, EmptyFileHasNoBytes) {
  absl::StatusOr<MappedFile> file = MappedFile::Open(WriteTempFile("empty.bin", ""), "test file");
  ASSERT_THAT(file, IsOk());
  EXPECT_TRUE(file->bytes().empty());
}

TEST(MappedFileTest, MoveHandsOverTheMapping) {
  absl::StatusOr<MappedFile> file = MappedFile::Open(WriteTempFile("moved.bin", "ab"), "test file");
  ASSERT_THAT(file, IsOk());
  MappedFile moved = std::move(*file);
  EXPECT_TRUE(file->bytes().empty());
  EXPECT_THAT(moved.bytes(), ElementsAre('a', 'b'));
  MappedFile assigned;
  assigned = std::move(moved);
  EXPECT_TRUE(moved.bytes().empty());
  EXPECT_THAT(assigned.bytes(), ElementsAre('a', 'b'));
}

TEST(MappedFileTest, MissingFileIsNotFoundNamingFileAndKind) {
  EXPECT_THAT(MappedFile::Open("/nonexistent/kvlab.gguf", "GGUF file"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/kvlab.gguf: cannot open GGUF file")));
}

TEST(MappedFileTest, DirectoryIsNotARegularFile) {
  EXPECT_THAT(MappedFile::Open(::testing::TempDir(), "test file"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

}  // namespace
}  // namespace kvlab

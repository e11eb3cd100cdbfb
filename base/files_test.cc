#include "base/files.h"

#include <cstdlib>
#include <filesystem>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

TEST(FilesTest, WriteThenReadRoundTrips) {
  const std::string path = ::testing::TempDir() + "/sub/dir/out.txt";
  ASSERT_THAT(WriteFileAtomically(path, "first"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "second"), IsOk());
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  ASSERT_THAT(contents, IsOk());
  EXPECT_EQ(*contents, "second");
  // No temporary file is left beside the result.
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir() + "/sub/dir")) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FilesTest, MissingFileIsNotFoundNamingIt) {
  EXPECT_THAT(ReadFileToString("/nonexistent/kvlab.txt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/kvlab.txt")));
}

TEST(FilesTest, UnwritableDirectoryIsAnError) {
  EXPECT_THAT(WriteFileAtomically("/proc/kvlab/out.txt", "x"), ::testing::Not(IsOk()));
}

TEST(FilesTest, ResolvesRelativePathsAgainstBazelRunDirectory) {
  ::setenv("BUILD_WORKING_DIRECTORY", "/home/me/kvlab", 1);
  EXPECT_EQ(ResolveUserPath("experiments/configs/a.pbtxt"),
            "/home/me/kvlab/experiments/configs/a.pbtxt");
  EXPECT_EQ(ResolveUserPath("/abs/path"), "/abs/path");
  EXPECT_EQ(ResolveUserPath(""), "");
  ::unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(ResolveUserPath("rel"), "rel");
}

}  // namespace
}  // namespace kvlab

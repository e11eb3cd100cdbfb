#include "experiments/protocols/sample_progress.h"

#include <filesystem>
#include <fstream>

#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

std::string Path() {
  const std::string dir = ::testing::TempDir() + "/" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir + "/batch.progress.jsonl";
}

TEST(SampleProgressTest, KeepsFinishedSamplesForTheSameKey) {
  const std::string path = Path();
  {
    ASSERT_OK_AND_ASSIGN(auto progress, SampleProgress::Open(path, "fp-a,fp-b"));
    EXPECT_TRUE(progress->samples().empty());
    ASSERT_THAT(progress->Append(Json{{"index", 0}}), IsOk());
    ASSERT_THAT(progress->Append(Json{{"index", 1}}), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto resumed, SampleProgress::Open(path, "fp-a,fp-b"));
  ASSERT_EQ(resumed->samples().size(), 2u);
  EXPECT_EQ(resumed->samples()[1]["index"], 1);
  // Appending goes on after what was kept.
  ASSERT_THAT(resumed->Append(Json{{"index", 2}}), IsOk());
  resumed.reset();
  ASSERT_OK_AND_ASSIGN(auto again, SampleProgress::Open(path, "fp-a,fp-b"));
  EXPECT_EQ(again->samples().size(), 3u);
}

TEST(SampleProgressTest, ReadsAnotherProcesssFileWithoutWritingIt) {
  const std::string path = Path();
  ASSERT_OK_AND_ASSIGN(std::vector<Json> absent, SampleProgress::Read(path, "fp-a"));
  EXPECT_TRUE(absent.empty());
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    ASSERT_OK_AND_ASSIGN(auto progress, SampleProgress::Open(path, "fp-a"));
    ASSERT_THAT(progress->Append(Json{{"index", 3}}), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Json> kept, SampleProgress::Read(path, "fp-a"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["index"], 3);
  ASSERT_OK_AND_ASSIGN(std::vector<Json> other, SampleProgress::Read(path, "fp-other"));
  EXPECT_TRUE(other.empty());
  // Reading under another key leaves the file as it was.
  ASSERT_OK_AND_ASSIGN(std::vector<Json> again, SampleProgress::Read(path, "fp-a"));
  EXPECT_EQ(again.size(), 1u);
}

TEST(SampleProgressTest, AnotherKeyStartsAfresh) {
  const std::string path = Path();
  {
    ASSERT_OK_AND_ASSIGN(auto progress, SampleProgress::Open(path, "fp-a"));
    ASSERT_THAT(progress->Append(Json{{"index", 0}}), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto other, SampleProgress::Open(path, "fp-changed"));
  EXPECT_TRUE(other->samples().empty());
  other.reset();
  // And the old samples are gone from the file, not only skipped.
  ASSERT_OK_AND_ASSIGN(auto back, SampleProgress::Open(path, "fp-a"));
  EXPECT_TRUE(back->samples().empty());
}

TEST(SampleProgressTest, ALineCutShortByACrashIsDropped) {
  const std::string path = Path();
  std::ofstream(path) << "{\"key\":\"k\"}\n{\"index\":0}\n{\"index\":1}\n{\"ind";
  ASSERT_OK_AND_ASSIGN(auto progress, SampleProgress::Open(path, "k"));
  EXPECT_EQ(progress->samples().size(), 2u);
  progress.reset();
  // A whole line without its newline (the crash came between the two writes) is dropped
  // too: only what was flushed with its newline counts.
  std::ofstream(path) << "{\"key\":\"k\"}\n{\"index\":0}\n{\"index\":1}";
  ASSERT_OK_AND_ASSIGN(auto again, SampleProgress::Open(path, "k"));
  EXPECT_EQ(again->samples().size(), 1u);
}

TEST(SampleProgressTest, AnUnwritablePathIsAnErrorNamingIt) {
  EXPECT_THAT(SampleProgress::Open("/nonexistent-dir/batch.progress.jsonl", "k"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("/nonexistent-dir/batch.progress.jsonl: cannot write")));
}

}  // namespace
}  // namespace kvlab::experiments

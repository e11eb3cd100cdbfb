#include "experiments/progress_bar.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

TEST(ProgressBarTest, FormatsDurations) {
  EXPECT_EQ(ProgressBar::FormatDuration(12.4), "12s");
  EXPECT_EQ(ProgressBar::FormatDuration(187), "3m07s");
  EXPECT_EQ(ProgressBar::FormatDuration(3720), "1h02m");
  EXPECT_EQ(ProgressBar::FormatDuration(-1), "?");
}

TEST(ProgressBarTest, WritesTenLinesWhenNotATerminal) {
  std::FILE* file = std::tmpfile();
  ProgressBar bar("dense", file);
  for (int i = 1; i <= 100; ++i) bar.Update(i, 100);
  bar.Finish();
  std::rewind(file);
  std::string out(4096, '\0');
  out.resize(std::fread(out.data(), 1, out.size(), file));
  std::fclose(file);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 11);  // 0%, 10%, ..., 90%, then the finish.
  EXPECT_THAT(out, HasSubstr("[dense] ######################## 100/100 tokens"));
  EXPECT_THAT(out, HasSubstr("took"));
}

TEST(ProgressBarTest, RateLeavesOutWhatAResumedRunReadBack) {
  std::FILE* file = std::tmpfile();
  ProgressBar bar("dense", file);
  bar.set_unit("samples", "sample");
  bar.set_resumed(40);
  bar.Update(40, 40);  // Everything was read back: nothing ran, so no rate.
  bar.Finish();
  std::rewind(file);
  std::string out(4096, '\0');
  out.resize(std::fread(out.data(), 1, out.size(), file));
  std::fclose(file);
  EXPECT_THAT(out, HasSubstr("40/40 samples  0.0 sample/s"));
}

}  // namespace
}  // namespace kvlab::experiments

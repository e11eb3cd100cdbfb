#include "eval/tokenizer/special_token_split.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

std::vector<std::string> Render(const std::vector<TextPiece>& pieces) {
  std::vector<std::string> out;
  for (const TextPiece& p : pieces) {
    out.push_back(p.id >= 0 ? "#" + std::to_string(p.id) : "'" + std::string(p.text) + "'");
  }
  return out;
}

TEST(SpecialTokenSplitterTest, SplitsAtEveryOccurrenceLongestFirst) {
  const SpecialTokenSplitter splitter({"\n", "\n\n", "<b>"}, {10, 11, 12});
  EXPECT_THAT(Render(splitter.Split("a\n\nb\nc<b>d\n")),
              ::testing::ElementsAre("'a'", "#11", "'b'", "#10", "'c'", "#12", "'d'", "#10"));
}

TEST(SpecialTokenSplitterTest, LongerTokenWinsOverlappingShorterOnes) {
  // "\n\n\n" is split as "\n\n" then "\n", never as three "\n".
  const SpecialTokenSplitter splitter({"\n", "\n\n"}, {1, 2});
  EXPECT_THAT(Render(splitter.Split("\n\n\n")), ::testing::ElementsAre("#2", "#1"));
}

TEST(SpecialTokenSplitterTest, TextWithoutSpecialsIsOnePiece) {
  const SpecialTokenSplitter splitter({"<b>"}, {1});
  EXPECT_THAT(Render(splitter.Split("plain")), ::testing::ElementsAre("'plain'"));
  EXPECT_TRUE(splitter.Split("").empty());
}

}  // namespace
}  // namespace kvlab::tokenizer

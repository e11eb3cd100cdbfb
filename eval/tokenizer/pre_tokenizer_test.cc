#include "eval/tokenizer/pre_tokenizer.h"

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> SplitWith(const char* name, const std::string& text) {
  absl::StatusOr<PreTokenizer> pre = PreTokenizer::ForName(name);
  EXPECT_THAT(pre, IsOk());
  if (!pre.ok()) return {};
  return pre->Split(text);
}

TEST(PreTokenizerTest, Gpt2WordsKeepTheirLeadingSpace) {
  EXPECT_THAT(SplitWith("gpt2", "Hello world, it's 42!"),
              ElementsAre("Hello", " world", ",", " it", "'s", " 42", "!"));
}

TEST(PreTokenizerTest, WhitespaceRunGivesItsLastSpaceToTheNextWord) {
  EXPECT_THAT(SplitWith("gpt2", "a   b"), ElementsAre("a", "  ", " b"));
  EXPECT_THAT(SplitWith("gpt2", "a\n\n b"), ElementsAre("a", "\n\n", " b"));
  // At the end of the text the whole run stays together.
  EXPECT_THAT(SplitWith("gpt2", "a  "), ElementsAre("a", "  "));
}

TEST(PreTokenizerTest, SmollmIsolatesEveryDigit) {
  EXPECT_THAT(SplitWith("smollm", "In 1995, x"),
              ElementsAre("In", " ", "1", "9", "9", "5", ",", " x"));
  // The space before a digit cannot join it, and a lookahead stops at the piece's end.
  EXPECT_THAT(SplitWith("smollm", "a  1"), ElementsAre("a", "  ", "1"));
}

TEST(PreTokenizerTest, ContractionsAreCaseSensitive) {
  EXPECT_THAT(SplitWith("smollm", "it's IT'S we'll"),
              ElementsAre("it", "'s", " IT", "'", "S", " we", "'ll"));
}

TEST(PreTokenizerTest, NonAsciiLettersAndNumbers) {
  // U+00E9 is a letter; U+00BD (one half) is \p{N} and is split off on its own.
  EXPECT_THAT(SplitWith("smollm", "caf\xc3\xa9 \xc2\xbd"),
              ElementsAre("caf\xc3\xa9", " ", "\xc2\xbd"));
}

TEST(PreTokenizerTest, MalformedUtf8BecomesReplacementCharacters) {
  EXPECT_THAT(SplitWith("smollm", "x\xff"), ElementsAre("x", "\xef\xbf\xbd"));
}

TEST(PreTokenizerTest, EmptyText) { EXPECT_THAT(SplitWith("smollm", ""), IsEmpty()); }

TEST(PreTokenizerTest, UnknownNameListsSupported) {
  EXPECT_THAT(PreTokenizer::ForName("llama-bpe"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("'llama-bpe'"), HasSubstr("smollm"))));
}

}  // namespace
}  // namespace kvlab::tokenizer

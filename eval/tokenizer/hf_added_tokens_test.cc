// Holds HfAddedTokenSplitter to what `tokenizers` 0.22.2 makes of the same added tokens
// (each expectation below is its Tokenizer.encode on these texts).
#include "eval/tokenizer/hf_added_tokens.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;

// The pieces as "id:text" (text between tokens has id -1).
std::vector<std::string> Pieces(const HfAddedTokenSplitter& splitter, absl::string_view text) {
  std::vector<std::string> out;
  for (const TextPiece& piece : splitter.Split(text)) {
    out.push_back(absl::StrCat(piece.id, ":", piece.text));
  }
  return out;
}

HfAddedToken Token(int32_t id, const std::string& content) {
  HfAddedToken token;
  token.id = id;
  token.content = content;
  return token;
}

HfAddedTokenSplitter Splitter(const std::vector<HfAddedToken>& tokens) {
  std::vector<std::string> patterns;
  for (const HfAddedToken& token : tokens) patterns.push_back(token.content);
  return HfAddedTokenSplitter(tokens, patterns);
}

TEST(HfAddedTokenSplitterTest, LeftmostThenLongestNeverOverlapping) {
  const HfAddedTokenSplitter splitter = Splitter({Token(4, "ab"), Token(5, "bc"), Token(6, "abc")});
  EXPECT_THAT(Pieces(splitter, "xabcbc"), ElementsAre("-1:x", "6:abc", "5:bc"));
  EXPECT_THAT(Pieces(splitter, "abbc"), ElementsAre("4:ab", "5:bc"));
  EXPECT_THAT(Pieces(splitter, "none here"), ElementsAre("-1:none here"));
}

TEST(HfAddedTokenSplitterTest, StripTakesTheWhitespaceBesideIt) {
  HfAddedToken left = Token(4, "<l>");
  left.lstrip = true;
  HfAddedToken right = Token(5, "<r>");
  right.rstrip = true;
  const HfAddedTokenSplitter splitter = Splitter({left, right});
  EXPECT_THAT(Pieces(splitter, "a \t<l> b"), ElementsAre("-1:a", "4: \t<l>", "-1: b"));
  EXPECT_THAT(Pieces(splitter, "a <r>\n b"), ElementsAre("-1:a ", "5:<r>\n ", "-1:b"));
  // Whitespace an earlier match took is not taken again.
  EXPECT_THAT(Pieces(splitter, "<r>  <l>"), ElementsAre("5:<r>  ", "4:<l>"));
}

// A single_word token where a word character touches it is passed over, and the search
// goes on after it: in "xabc" neither "abc" nor the "bc" inside it is found.
TEST(HfAddedTokenSplitterTest, SingleWordTokensStandAlone) {
  HfAddedToken ab = Token(4, "ab");
  ab.single_word = true;
  HfAddedToken abc = Token(6, "abc");
  abc.single_word = true;
  abc.lstrip = true;
  abc.rstrip = true;
  const HfAddedTokenSplitter splitter = Splitter({ab, Token(5, "bc"), abc});
  EXPECT_THAT(Pieces(splitter, "abc"), ElementsAre("6:abc"));
  EXPECT_THAT(Pieces(splitter, "xabc"), ElementsAre("-1:xabc"));
  EXPECT_THAT(Pieces(splitter, "ab c"), ElementsAre("4:ab", "-1: c"));
  EXPECT_THAT(Pieces(splitter, "c ab,"), ElementsAre("-1:c ", "4:ab", "-1:,"));
  EXPECT_THAT(Pieces(splitter, "abab"), ElementsAre("-1:abab"));
  EXPECT_THAT(Pieces(splitter, "ab_"), ElementsAre("-1:ab_"));
  const std::string accented = "\xC3\xA9" "ab";  // "éab"
  EXPECT_THAT(Pieces(splitter, accented), ElementsAre("-1:" + accented));
  EXPECT_THAT(Pieces(splitter, "a abc  c"), ElementsAre("-1:a", "6: abc  ", "-1:c"));
  EXPECT_THAT(Pieces(splitter, "abcab"), ElementsAre("-1:abcab"));
}

}  // namespace
}  // namespace kvlab::tokenizer

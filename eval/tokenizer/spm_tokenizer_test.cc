#include "eval/tokenizer/spm_tokenizer.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A vocabulary of control tokens 0-2, the 256 byte tokens 3-258, then `pieces` with
// their scores (user-defined where the score is NaN-free and `user` says so).
SpmVocabulary MakeVocabulary(const std::vector<std::pair<std::string, float>>& pieces,
                             const std::vector<std::string>& user_defined = {}) {
  SpmVocabulary v;
  for (const char* control : {"<pad>", "<eos>", "<bos>"}) {
    v.tokens.push_back(control);
    v.scores.push_back(0.0f);
    v.token_types.push_back(3);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.push_back(name);
    v.scores.push_back(0.0f);
    v.token_types.push_back(6);
  }
  for (const auto& [text, score] : pieces) {
    v.tokens.push_back(text);
    v.scores.push_back(score);
    v.token_types.push_back(1);
  }
  for (const std::string& text : user_defined) {
    v.tokens.push_back(text);
    v.scores.push_back(0.0f);
    v.token_types.push_back(4);
  }
  v.bos_id = 2;
  v.eos_id = 1;
  v.add_bos = true;
  v.add_space_prefix = false;
  return v;
}

constexpr int32_t kFirstPiece = 259;

TEST(SpmTokenizerTest, MergesHighestScoringPairFirst) {
  // Pieces: a b c ab bc abc. "bc" outscores "ab", so "abc" forms as a + bc -> abc.
  ASSERT_OK_AND_ASSIGN(
      SpmTokenizer t, SpmTokenizer::FromVocabulary(MakeVocabulary(
                          {{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -3}, {"bc", -2}, {"abc", -5}})));
  EXPECT_THAT(t.Encode("abc", false), ElementsAre(kFirstPiece + 5));
  // Without "abc" the higher-scoring "bc" wins over "ab".
  ASSERT_OK_AND_ASSIGN(SpmTokenizer u,
                       SpmTokenizer::FromVocabulary(MakeVocabulary(
                           {{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -3}, {"bc", -2}})));
  EXPECT_THAT(u.Encode("abc", false), ElementsAre(kFirstPiece + 0, kFirstPiece + 4));
}

TEST(SpmTokenizerTest, LeftmostPairWinsTies) {
  ASSERT_OK_AND_ASSIGN(SpmTokenizer t,
                       SpmTokenizer::FromVocabulary(MakeVocabulary({{"a", -1}, {"aa", -2}})));
  EXPECT_THAT(t.Encode("aaa", false), ElementsAre(kFirstPiece + 1, kFirstPiece + 0));
}

TEST(SpmTokenizerTest, SpacesBecomeU2581AndUnknownCharactersFallBackToBytes) {
  ASSERT_OK_AND_ASSIGN(SpmTokenizer t,
                       SpmTokenizer::FromVocabulary(MakeVocabulary(
                           {{"\xE2\x96\x81", -1}, {"x", -1}, {"\xE2\x96\x81x", -2}})));
  // " x" -> "▁x"; "é" (C3 A9) is not a piece: its two byte tokens.
  EXPECT_THAT(t.Encode(" x\xC3\xA9", true), ElementsAre(2, kFirstPiece + 2, 3 + 0xC3, 3 + 0xA9));
  EXPECT_EQ(t.Decode(t.Encode(" x\xC3\xA9", false)), " x\xC3\xA9");
}

TEST(SpmTokenizerTest, SpacePrefixOnlyAtStartAndAfterSpecialTokens) {
  SpmVocabulary v = MakeVocabulary({{"\xE2\x96\x81", -1}, {"x", -1}, {"\xE2\x96\x81x", -2}},
                                   {"\n"});
  v.add_space_prefix = true;
  ASSERT_OK_AND_ASSIGN(SpmTokenizer t, SpmTokenizer::FromVocabulary(std::move(v)));
  // "x\nx" -> "▁x", "\n", "▁x"; "xx" -> "▁x", "x".
  EXPECT_THAT(t.Encode("x\nx", false), ElementsAre(kFirstPiece + 2, kFirstPiece + 3,
                                                   kFirstPiece + 2));
  EXPECT_THAT(t.Encode("xx", false), ElementsAre(kFirstPiece + 2, kFirstPiece + 1));
}

TEST(SpmTokenizerTest, UserDefinedTokensSplitTheTextFirst) {
  ASSERT_OK_AND_ASSIGN(SpmTokenizer t, SpmTokenizer::FromVocabulary(MakeVocabulary(
                                           {{"a", -1}, {"\n", -1}, {"a\n", -0.5f}}, {"\n"})));
  // The user-defined "\n" (id 262) is split out before "a\n" could merge.
  EXPECT_THAT(t.Encode("a\na", false), ElementsAre(kFirstPiece + 0, kFirstPiece + 3,
                                                   kFirstPiece + 0));
}

TEST(SpmTokenizerTest, MalformedVocabulariesAreErrors) {
  SpmVocabulary missing_scores = MakeVocabulary({{"a", -1}});
  missing_scores.scores.pop_back();
  EXPECT_THAT(SpmTokenizer::FromVocabulary(missing_scores),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tokenizer.ggml.scores has 259 entries for 260 tokens")));
  SpmVocabulary missing_byte = MakeVocabulary({{"a", -1}});
  missing_byte.token_types[3 + 0x41] = 1;
  EXPECT_THAT(SpmTokenizer::FromVocabulary(missing_byte),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("<0x41>")));
  SpmVocabulary bad_byte = MakeVocabulary({{"a", -1}});
  bad_byte.tokens[3] = "<0xZZ>";
  EXPECT_THAT(SpmTokenizer::FromVocabulary(bad_byte),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected <0xNN>")));
}

}  // namespace
}  // namespace kvlab::tokenizer

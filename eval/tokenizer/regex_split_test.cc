#include "eval/tokenizer/regex_split.h"

#include "base/status_matchers.h"
#include "eval/tokenizer/unicode_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Engine = SplitPattern::Engine;

// The words of `text` after `pattern`, starting from `pieces` (code point ranges).
std::vector<std::string> Words(const SplitPattern& pattern, const std::string& text,
                               std::vector<CodePointRange> pieces = {}) {
  absl::StatusOr<CompiledSplitPattern> compiled = CompiledSplitPattern::Compile(pattern);
  EXPECT_THAT(compiled, IsOk());
  if (!compiled.ok()) return {};
  const std::vector<char32_t> cps = DecodeUtf8(text);
  if (pieces.empty()) pieces.push_back(CodePointRange{0, cps.size()});
  std::vector<std::string> words;
  for (const CodePointRange& piece : compiled->Refine(cps, pieces)) {
    std::string word;
    for (size_t i = piece.begin; i < piece.end; ++i) AppendUtf8(cps[i], word);
    words.push_back(word);
  }
  return words;
}

TEST(LlamaCppCategoryTest, UnicodeFifteenPointOneAdditions) {
  EXPECT_EQ(LlamaCppCategory(U'a'), CharCategory::kLetter);
  EXPECT_EQ(LlamaCppCategory(U'7'), CharCategory::kNumber);
  EXPECT_EQ(LlamaCppCategory(U'!'), CharCategory::kPunctuation);
  EXPECT_EQ(LlamaCppCategory(0x0301), CharCategory::kMark);
  EXPECT_EQ(LlamaCppCategory(U'$'), CharCategory::kSymbol);
  EXPECT_EQ(LlamaCppCategory(U' '), CharCategory::kOther);
  // Assigned in Unicode 15.1, which ICU 72 predates.
  EXPECT_EQ(LlamaCppCategory(0x2EBF0), CharCategory::kLetter);
  EXPECT_EQ(LlamaCppCategory(0x2EE5D), CharCategory::kLetter);
  EXPECT_EQ(LlamaCppCategory(0x31EF), CharCategory::kSymbol);
  EXPECT_EQ(LlamaCppCategory(0x2EE5E), CharCategory::kOther);
}

TEST(RegexSplitTest, MatchesAndTheTextBetweenThemAreBothKept) {
  EXPECT_THAT(Words({Engine::kStdRegex, R"(\p{N}+)"}, "ab12cd3"),
              ElementsAre("ab", "12", "cd", "3"));
}

TEST(RegexSplitTest, EachPieceIsSplitOnItsOwn) {
  // Pieces "a  " and "b": the lookahead of \s+(?!\S) ends at the first piece's end.
  EXPECT_THAT(Words({Engine::kGpt2, ""}, "a  b", {{0, 3}, {3, 4}}), ElementsAre("a", "  ", "b"));
  EXPECT_THAT(Words({Engine::kQwen2, R"((?:'[sS])|[^\r\n\p{L}\p{N}]?\p{L}+|\s+(?!\S)|\s+)"}, "a  b",
                    {{0, 3}, {3, 4}}),
              ElementsAre("a", "  ", "b"));
}

TEST(RegexSplitTest, CategoriesReachNonAsciiThroughStandIns) {
  // \p{L} reaches U+00E9 and U+4E2D; \p{Lu} is any letter outside ASCII, as in llama.cpp.
  EXPECT_THAT(Words({Engine::kStdRegex, R"(\p{L}+)"}, "caf\xc3\xa9!\xe4\xb8\xad"),
              ElementsAre("caf\xc3\xa9", "!", "\xe4\xb8\xad"));
  EXPECT_THAT(Words({Engine::kStdRegex, R"(\p{Lu}+)"},
                    "\xc3\xa9"
                    "a"
                    "\xc3\x89"),
              ElementsAre("\xc3\xa9"
                          "a"
                          "\xc3\x89"));
}

TEST(RegexSplitTest, WithoutCategoriesTheRegexSeesCodePoints) {
  // A non-ASCII range, matched over code points; \s takes U+3000 (written as \v).
  EXPECT_THAT(Words({Engine::kStdRegex, "[\xe4\xb8\x80-\xe9\xbe\xa5]+|\\s+"},
                    "ab\xe4\xb8\xad\xe6\x96\x87\xe3\x80\x80x"),
              ElementsAre("ab", "\xe4\xb8\xad\xe6\x96\x87", "\xe3\x80\x80", "x"));
}

TEST(RegexSplitTest, EmptyMatchesCutWithoutMakingEmptyPieces) {
  EXPECT_THAT(Words({Engine::kStdRegex, R"((?=(\d{3})+(?!\d)))"}, "1234567"),
              ElementsAre("1", "234", "567"));
}

TEST(RegexSplitTest, ThousandsCutsAreTheLookaheadsEmptyMatches) {
  const SplitPattern by_hand{Engine::kThousandsCuts, ""};
  const SplitPattern by_regex{Engine::kStdRegex, R"((?=(\d{3})+(?!\d)))"};
  for (const std::string text : {"1234567", "x123456y", "12 3456 7", "\xd9\xa3" "1234", ""}) {
    EXPECT_EQ(Words(by_hand, text), Words(by_regex, text)) << text;
  }
  EXPECT_THAT(Words(by_hand, "x1234567y"), ElementsAre("x1", "234", "567y"));
}

TEST(RegexSplitTest, DigitGroupsJoinTheTextBeforeThemAsLlamaCppDoes) {
  EXPECT_THAT(Words({Engine::kDigitGroups, ""}, "ab12345cd"), ElementsAre("ab12", "345", "cd"));
}

TEST(RegexSplitTest, KimiK2KeepsHanApartFromOtherLetters) {
  EXPECT_THAT(Words({Engine::kKimiK2, ""},
                    "\xe4\xb8\xad"
                    "abc'S 12345"),
              ElementsAre("\xe4\xb8\xad", "abc'S", " ", "123", "45"));
}

TEST(RegexSplitTest, NewlineRuns) {
  EXPECT_THAT(Words({Engine::kNewlines, ""}, "a b\n\nc\n"), ElementsAre("a b", "\n\n", "c", "\n"));
}

TEST(RegexSplitTest, AWordOfAHundredThousandLettersDoesNotOverflowTheStack) {
  // The standard library's matcher recurses per character; an ordinary stack ends near
  // 50,000 (where llama.cpp crashes).
  const std::string word(100000, 'a');
  EXPECT_THAT(Words({Engine::kStdRegex, R"( ?[^(\s|.,!?)]+)"}, word + " b"),
              ElementsAre(word, " b"));
}

TEST(RegexSplitTest, BadRegexIsAnError) {
  EXPECT_THAT(CompiledSplitPattern::Compile({Engine::kStdRegex, "(ab"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'(ab'")));
  EXPECT_THAT(CompiledSplitPattern::Compile({Engine::kStdRegex, "\\p{L}\xc3\xa9"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("non-ASCII")));
  EXPECT_THAT(CompiledSplitPattern::Compile({Engine::kLlama3, "(ab"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'(ab'")));
}

}  // namespace
}  // namespace kvlab::tokenizer

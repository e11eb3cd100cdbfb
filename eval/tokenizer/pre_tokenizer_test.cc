#include "eval/tokenizer/pre_tokenizer.h"

#include <set>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

std::vector<std::string> SplitWith(const char* name, const std::string& text) {
  absl::StatusOr<PreTokenizer> pre = PreTokenizer::ForName(name);
  EXPECT_THAT(pre, IsOk());
  if (!pre.ok()) return {};
  return pre->Split(text);
}

// One text per distinct list of split patterns, with the words llama.cpp splits it
// into (checked by hand against each regex, and against llama.cpp's own splitting).
struct SplitCase {
  const char* name;
  std::string text;
  std::vector<std::string> words;
  const char* why;
};

const std::vector<SplitCase>& SplitCases() {
  static const auto* const cases = new std::vector<SplitCase>{
      {"gpt-2",
       "Hello world, it's 42!",
       {"Hello", " world", ",", " it", "'s", " 42", "!"},
       "GPT-2's regex: words keep their leading space"},
      {"gpt-2",
       "a   b\n\n c  ",
       {"a", "  ", " b", "\n\n", " c", "  "},
       "a whitespace run gives its last space to the next word, except at the end"},
      {"default",
       "x+y=z!! 12345 it's",
       {"x", "+", "y", "=", "z", "!!", " ", "123", "45", " it", "'", "s"},
       "llama.cpp's default: punctuation runs first (the apostrophe too), then GPT-2's regex, "
       "numbers, ASCII digit triples"},
      {"falcon",
       "a`b|c 1234567",
       {"a", "`", "b", "|", "c", " ", "123", "456", "7"},
       "Falcon: punctuation and symbol runs, GPT-2's regex, ASCII digit triples"},
      {"smollm",
       "In 1995, x",
       {"In", " ", "1", "9", "9", "5", ",", " x"},
       "each digit split off first; the space before it cannot join it"},
      {"llama-bpe",
       "HE'S 1234567\r\n\n  end",
       {"HE", "'S", " ", "123", "456", "7", "\r\n\n", " ", " end"},
       "Llama 3: contractions in either case, numbers in threes, newlines with the spaces before "
       "them"},
      {"qwen2",
       "WE'LL 2024\n\n  x",
       {"WE", "'LL", " ", "2", "0", "2", "4", "\n\n", " ", " x"},
       "Qwen2: Llama 3's regex with each digit on its own"},
      {"qwen35",
       "e\xcc\x81te\xcc\x81 x\xcc\x88!",
       {"e\xcc\x81te\xcc\x81", " x\xcc\x88", "!"},
       "Qwen3.5: combining marks belong to words"},
      {"jais-2",
       "a          b",
       {"a", "        ", " ", " b"},
       "Jais 2: whitespace runs in powers of two"},
      {"deepseek-llm",
       "Hello, \xe4\xb8\x96\xe7\x95\x8c! 123\n",
       {"Hello", ",", " ", "\xe4\xb8\x96\xe7\x95\x8c", "!", " ", "123", "\n"},
       "DeepSeek LLM: newlines, Latin letters, punctuation, CJK and numbers each by a regex of "
       "their own"},
      {"deepseek-coder",
       "foo(bar) 12\n\xe4\xb8\xad\xe6\x96\x87",
       {"foo", "(", "bar", ")", " ", "1", "2", "\n", "\xe4\xb8\xad\xe6\x96\x87"},
       "DeepSeek Coder: letters and punctuation with an optional space, CJK, each digit"},
      {"deepseek-v3",
       "1234 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e don't",
       {"123", "4", " ", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", " don", "'t"},
       "DeepSeek V3: numbers in threes and CJK before the word regex"},
      {"spark2_5",
       "1234 a\r\nb",
       {"1", "2", "3", "4", " a", "\r", "\n", "b"},
       "Spark 2.5: each digit, \r and \n on their own"},
      {"youtu",
       "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xe2\x80\x9chi\xe2\x80\x9d \xe4\xbd\xa0\xe5\xa5\xbd "
       "CamelCase",
       {"\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", " ", "\xe2\x80\x9c", "hi", "\xe2\x80\x9d", " ",
        "\xe4\xbd\xa0\xe5\xa5\xbd", " CamelCase"},
       "Youtu: Hangul, CJK punctuation and Han runs first"},
      {"poro-chat",
       "Hei, maailma! (x|y)",
       {"Hei", ",", " maailma", "! (", "x", "|", "y", ")"},
       "Poro, Bloom: everything but whitespace and . , ! ? ( | ) ... is a word; those stay "
       "between"},
      {"viking", "Hei 123", {"Hei", " ", "1", "2", "3"}, "Viking: Poro's regex, then each digit"},
      {"tekken",
       "HelloWorld iPhone \xc3\x89"
       "COLE",
       {"Hello", "World", " i", "Phone", " \xc3\x89", "COLE"},
       "Tekken: case changes split words; a non-ASCII letter counts as either case, as llama.cpp's "
       "category stand-ins make it"},
      {"chameleon",
       "<sentinel:12>IMGIMGABZ  x",
       {"<", "sentinel", ":", "1", "2", ">", "IMGIMGABZ", "  ", "x"},
       "Chameleon: every later pattern still splits a sentinel; image tokens and double spaces "
       "stay whole"},
      {"gpt-4o",
       "HelloWorld DON'T 1234",
       {"Hello", "World", " DON'T", " ", "123", "4"},
       "GPT-4o: case changes split words, a contraction stays on its word"},
      {"granite-embed-multi-97m",
       "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 HelloWorld",
       {"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87", " Hello",
        "World"},
       "Granite multilingual: marks join their letters"},
      {"tiny_aya",
       "1234567 abc",
       {"1", "234", "567", " abc"},
       "Tiny Aya: digits in threes from the right"},
      {"kimi-k2",
       "\xe4\xb8\xad\xe6\x96\x87"
       "abc's 1234",
       {"\xe4\xb8\xad\xe6\x96\x87", "abc's", " ", "123", "4"},
       "Kimi K2: Han runs apart from other letters; a contraction stays on its word"},
      {"superbpe",
       "1234567 x",
       {"1", "234", "567", " x"},
       "SuperBPE: number runs, then cuts before each group of three from the right"},
      {"bailingmoe",
       "IT'S a\r\n\nb",
       {"IT", "'S", " a", "\r\n\n", "b"},
       "Bailing: contractions, newlines after punctuation"},
      {"seed-coder",
       "a!!\r\nb 12",
       {"a", "!!", "\r\n", "b", " ", "1", "2"},
       "Seed-Coder: punctuation does not take the newlines after it"},
      {"ufakzeka",
       "Ankara'da 12",
       {"Ankara", "'da", " ", "1", "2"},
       "Ufakzeka: no contractions, so Turkish suffixes stay whole"},
      {"afmoe",
       "abc12345 \xe4\xb8\xad\xe6\x96\x87 x",
       {"abc", "12", "345", " ", "\xe4\xb8\xad\xe6\x96\x87", " x"},
       "AfMoE: digits in threes from the right, CJK runs, then the word regex"},
      {"laguna",
       "a b\n\nc 12",
       {"a", " b", "\n\n", "c", " ", "1", "2"},
       "Laguna: newline runs first, then Qwen2's regex"},
      {"exaone-moe",
       "New York City 12",
       {"New York City", " ", "1", "2"},
       "EXAONE MoE: words joined by single spaces stay one word"},
      {"minicpm5", "1234567 x", {"123", "456", "7", " x"}, "MiniCPM 5: numbers in threes first"},
      {"qwen2",
       "\xf0\xae\xaf\xb0\xf0\xae\xaf\xb1!",
       {"\xf0\xae\xaf\xb0\xf0\xae\xaf\xb1", "!"},
       "Qwen2 on CJK Extension I, letters since Unicode 15.1 (llama.cpp's tables), which ICU 72 "
       "leaves unassigned"},
  };
  return *cases;
}

TEST(PreTokenizerTest, SplitsAsLlamaCppDoes) {
  for (const SplitCase& c : SplitCases()) {
    EXPECT_THAT(SplitWith(c.name, c.text), ElementsAreArray(c.words)) << c.name << ": " << c.why;
  }
}

TEST(PreTokenizerTest, ContractionsAreCaseSensitiveForGpt2) {
  EXPECT_THAT(SplitWith("smollm", "it's IT'S we'll"),
              ElementsAre("it", "'s", " IT", "'", "S", " we", "'ll"));
}

TEST(PreTokenizerTest, NonAsciiLettersAndNumbers) {
  // U+00E9 is a letter; U+00BD (one half) is \p{N} and is split off on its own.
  EXPECT_THAT(SplitWith("smollm", "caf\xc3\xa9 \xc2\xbd"),
              ElementsAre("caf\xc3\xa9", " ", "\xc2\xbd"));
}

TEST(PreTokenizerTest, LongSFoldsToSInIcuButIsNoContractionInLlamaCpp) {
  // U+017F (long s) after an apostrophe: ICU's (?i:'s) would split "'\u017f" off as a
  // contraction; llama.cpp's 's and 'S do not, so the apostrophe leads the word.
  EXPECT_THAT(SplitWith("llama-bpe", "x'\xc5\xbfx"), ElementsAre("x", "'\xc5\xbfx"));
}

TEST(PreTokenizerTest, MalformedUtf8BecomesReplacementCharacters) {
  EXPECT_THAT(SplitWith("smollm", "x\xff"), ElementsAre("x", "\xef\xbf\xbd"));
  EXPECT_THAT(SplitWith("qwen2", "x\xff"), ElementsAre("x", "\xef\xbf\xbd"));
}

TEST(PreTokenizerTest, EmptyText) {
  for (const std::string& name : PreTokenizer::SupportedNames()) {
    EXPECT_THAT(SplitWith(name.c_str(), ""), IsEmpty()) << name;
  }
}

TEST(PreTokenizerTest, EveryNameCompilesAndGivesBackItsText) {
  const std::vector<std::string> names = PreTokenizer::SupportedNames();
  // llama.cpp's 91 names for BPE vocabularies, less the four it runs on raw UTF-8.
  EXPECT_THAT(names, SizeIs(87));
  EXPECT_THAT(std::set<std::string>(names.begin(), names.end()), SizeIs(names.size()));
  const std::string text =
      "It's 2024!\r\n  \xe4\xb8\xad\xe6\x96\x87 caf\xc3\xa9\t\xf0\x9f\x98\x80 ";
  for (const std::string& name : names) {
    std::string joined;
    for (const std::string& word : SplitWith(name.c_str(), text)) {
      EXPECT_THAT(word, Not(IsEmpty())) << name;
      joined += word;
    }
    EXPECT_EQ(joined, text) << name;
  }
}

TEST(PreTokenizerTest, IgnoreMergesAsLlamaCppSetsIt) {
  for (const char* name : {"llama-bpe", "tekken", "glm4", "youtu", "minicpm5"}) {
    ASSERT_OK_AND_ASSIGN(PreTokenizer pre, PreTokenizer::ForName(name));
    EXPECT_TRUE(pre.ignore_merges()) << name;
  }
  for (const char* name : {"qwen2", "smollm", "chatglm-bpe", "default"}) {
    ASSERT_OK_AND_ASSIGN(PreTokenizer pre, PreTokenizer::ForName(name));
    EXPECT_FALSE(pre.ignore_merges()) << name;
  }
}

TEST(PreTokenizerTest, RegexesAreLlamaCppsInOrder) {
  ASSERT_OK_AND_ASSIGN(PreTokenizer smollm, PreTokenizer::ForName("smollm"));
  EXPECT_THAT(smollm.regexes(),
              ElementsAre(R"(\p{N})",
                          R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))"));
}

TEST(PreTokenizerTest, UnknownNameListsSupported) {
  EXPECT_THAT(PreTokenizer::ForName("gpt2"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("'gpt2'"), HasSubstr("llama-bpe"), HasSubstr("qwen2"))));
}

TEST(PreTokenizerTest, RawUtf8NamesAreRefusedWithTheReason) {
  for (const char* name : {"gemma4", "granite-embed-multi-311m", "sarvam-moe", "whitespace"}) {
    EXPECT_THAT(PreTokenizer::ForName(name),
                StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("raw UTF-8")))
        << name;
  }
}

}  // namespace
}  // namespace kvlab::tokenizer

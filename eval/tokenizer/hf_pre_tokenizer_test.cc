// Holds HfPreTokenizer to what Hugging Face's `tokenizers` does with the same steps on
// awkward texts (Unicode spaces and digits, CRLF runs, contractions in upper case,
// combining marks, emoji): the words in hf_reference/split_reference.json, written by
// make_split_reference.py.
#include "eval/tokenizer/hf_pre_tokenizer.h"

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/tokenizer/byte_alphabet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

HfPreTokenizer Make(std::vector<HfPreTokenizerStep> steps) {
  absl::StatusOr<HfPreTokenizer> pre = HfPreTokenizer::Create(std::move(steps));
  EXPECT_THAT(pre, IsOk());
  return pre.ok() ? *std::move(pre) : HfPreTokenizer();
}

HfPreTokenizerStep SplitStep(const std::string& regex) {
  HfPreTokenizerStep step{HfPreTokenizerStep::Kind::kSplit};
  step.regex = regex;
  return step;
}

TEST(HfPreTokenizerTest, MatchesTheTokenizersLibrary) {
  const absl::StatusOr<std::string> text =
      ReadFileToString("eval/tokenizer/hf_reference/split_reference.json");
  ASSERT_THAT(text, IsOk());
  const Json reference = Json::parse(*text);
  HfPreTokenizerStep byte_level{HfPreTokenizerStep::Kind::kByteLevel};
  byte_level.add_prefix_space = false;
  HfPreTokenizerStep digits{HfPreTokenizerStep::Kind::kDigits};
  digits.individual_digits = true;
  const std::vector<std::pair<std::string, HfPreTokenizer>> pre_tokenizers = {
      {"gpt2", Make({SplitStep(reference["regexes"]["gpt2"])})},
      {"llama3", Make({SplitStep(reference["regexes"]["llama3"])})},
      {"qwen2", Make({SplitStep(reference["regexes"]["qwen2"])})},
      {"byte_level", Make({byte_level})},
      {"digits", Make({digits})}};
  int checked = 0;
  for (const Json& c : reference["cases"]) {
    const std::string input = c["text"];
    SCOPED_TRACE(input);
    for (const auto& [name, pre] : pre_tokenizers) {
      EXPECT_EQ(pre.Split(input, true), c[name].get<std::vector<std::string>>()) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 5 * 15);
}

// Split at a literal and at Llama 3's regex under every behavior, inverted and not;
// Digits joining runs; Metaspace with each prepend scheme, split and not.
TEST(HfPreTokenizerTest, MatchesTheTokenizersLibraryForEveryBehavior) {
  const absl::StatusOr<std::string> text =
      ReadFileToString("eval/tokenizer/hf_reference/split_reference.json");
  ASSERT_THAT(text, IsOk());
  const Json reference = Json::parse(*text);
  const std::vector<std::pair<std::string, HfSplitBehavior>> behaviors = {
      {"removed", HfSplitBehavior::kRemoved},
      {"isolated", HfSplitBehavior::kIsolated},
      {"merged_with_previous", HfSplitBehavior::kMergedWithPrevious},
      {"merged_with_next", HfSplitBehavior::kMergedWithNext},
      {"contiguous", HfSplitBehavior::kContiguous}};
  std::vector<std::tuple<std::string, std::string, HfPreTokenizer>> pre_tokenizers;
  for (const auto& [name, behavior] : behaviors) {
    for (const bool invert : {false, true}) {
      const std::string key = name + (invert ? "_invert" : "");
      HfPreTokenizerStep literal{HfPreTokenizerStep::Kind::kSplit};
      literal.literal = " ";
      literal.behavior = behavior;
      literal.invert = invert;
      pre_tokenizers.emplace_back("split_space", key, Make({literal}));
      HfPreTokenizerStep regex = SplitStep(reference["regexes"]["llama3"]);
      regex.behavior = behavior;
      regex.invert = invert;
      pre_tokenizers.emplace_back("split_llama3", key, Make({regex}));
    }
  }
  for (const auto& [scheme, prepend] :
       std::vector<std::pair<std::string, HfPreTokenizerStep::Prepend>>{
           {"always", HfPreTokenizerStep::Prepend::kAlways},
           {"first", HfPreTokenizerStep::Prepend::kFirst},
           {"never", HfPreTokenizerStep::Prepend::kNever}}) {
    for (const bool split : {true, false}) {
      HfPreTokenizerStep step{HfPreTokenizerStep::Kind::kMetaspace};
      step.replacement = "\xE2\x96\x81";
      step.prepend = prepend;
      step.split = split;
      pre_tokenizers.emplace_back("metaspace", scheme + (split ? "" : "_unsplit"), Make({step}));
    }
  }
  HfPreTokenizerStep digits{HfPreTokenizerStep::Kind::kDigits};
  digits.individual_digits = false;
  const HfPreTokenizer contiguous_digits = Make({digits});
  int checked = 0;
  for (const Json& c : reference["cases"]) {
    const std::string input = c["text"];
    SCOPED_TRACE(input);
    for (const auto& [group, key, pre] : pre_tokenizers) {
      EXPECT_EQ(pre.Split(input, true), c[group][key].get<std::vector<std::string>>())
          << group << " " << key;
      ++checked;
    }
    EXPECT_EQ(contiguous_digits.Split(input, true),
              c["digits_contiguous"].get<std::vector<std::string>>());
  }
  EXPECT_EQ(checked, 26 * 15);
}

TEST(HfPreTokenizerTest, MetaspaceWritesSpacesAndSplitsBeforeThem) {
  HfPreTokenizerStep step{HfPreTokenizerStep::Kind::kMetaspace};
  step.replacement = "_";
  step.prepend = HfPreTokenizerStep::Prepend::kFirst;
  step.split = true;
  const HfPreTokenizer pre = Make({step});
  EXPECT_THAT(pre.Split("a b  c", true), ElementsAre("_a", "_b", "_", "_c"));
  EXPECT_THAT(pre.Split("a b", false), ElementsAre("a", "_b"));
}

TEST(HfPreTokenizerTest, ByteLevelWritesBytesInGpt2sAlphabet) {
  HfPreTokenizerStep step{HfPreTokenizerStep::Kind::kByteLevel};
  step.add_prefix_space = true;
  step.use_regex = false;
  const HfPreTokenizer pre = Make({step});
  EXPECT_TRUE(pre.byte_level());
  const std::vector<std::string> alphabet = MakeByteAlphabet();
  EXPECT_THAT(pre.Split("a\n", true), ElementsAre(alphabet[' '] + "a" + alphabet['\n']));
}

TEST(HfPreTokenizerTest, MetaspaceReplacementIsOneCharacter) {
  HfPreTokenizerStep step{HfPreTokenizerStep::Kind::kMetaspace};
  step.replacement = "__";
  EXPECT_THAT(HfPreTokenizer::Create({step}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not one character")));
}

TEST(HfPreTokenizerTest, UnknownRegexAndMisplacedByteLevelAreErrors) {
  EXPECT_THAT(HfPreTokenizer::Create({SplitStep("[a-z]+")}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("'[a-z]+'")));
  EXPECT_THAT(
      HfPreTokenizer::Create({{HfPreTokenizerStep::Kind::kByteLevel}, SplitStep("x")}),
      StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("ByteLevel must be the last")));
}

}  // namespace
}  // namespace kvlab::tokenizer

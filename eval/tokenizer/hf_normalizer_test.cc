// Holds HfNormalizer to what Hugging Face's `tokenizers` does with the same normalizers
// on awkward texts (combining marks, compatibility characters, runs of spaces): the
// normalized texts in hf_reference/split_reference.json, written by
// make_split_reference.py.
#include "eval/tokenizer/hf_normalizer.h"

#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::tokenizer {
namespace {

using Json = nlohmann::json;
using Kind = HfNormalizerStep::Kind;

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581

TEST(HfNormalizerTest, MatchesTheTokenizersLibrary) {
  const absl::StatusOr<std::string> text =
      ReadFileToString("eval/tokenizer/hf_reference/split_reference.json");
  ASSERT_THAT(text, IsOk());
  const Json reference = Json::parse(*text);
  const std::vector<std::pair<std::string, HfNormalizer>> normalizers = {
      {"nfc", HfNormalizer({{Kind::kNfc, "", ""}})},
      {"nfd", HfNormalizer({{Kind::kNfd, "", ""}})},
      {"nfkc", HfNormalizer({{Kind::kNfkc, "", ""}})},
      {"nfkd", HfNormalizer({{Kind::kNfkd, "", ""}})},
      {"prepend_replace",
       HfNormalizer({{Kind::kPrepend, "", kSpaceMark}, {Kind::kReplace, " ", kSpaceMark}})},
      // A replacement is not searched again: "  " -> " " -> "__", never "____".
      {"replace_twice", HfNormalizer({{Kind::kReplace, "  ", " "}, {Kind::kReplace, " ", "__"}})}};
  int checked = 0;
  for (const Json& c : reference["cases"]) {
    const std::string input = c["text"];
    SCOPED_TRACE(input);
    for (const auto& [name, normalizer] : normalizers) {
      EXPECT_EQ(normalizer.Apply(input), c[name].get<std::string>()) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * 15);
}

// Prepend leaves empty text empty, as `tokenizers` does, so text between two added
// tokens that meet gets no mark of its own.
TEST(HfNormalizerTest, PrependLeavesEmptyTextAlone) {
  const HfNormalizer prepend({{Kind::kPrepend, "", kSpaceMark}});
  EXPECT_EQ(prepend.Apply(""), "");
  EXPECT_EQ(prepend.Apply("a"), std::string(kSpaceMark) + "a");
}

}  // namespace
}  // namespace kvlab::tokenizer

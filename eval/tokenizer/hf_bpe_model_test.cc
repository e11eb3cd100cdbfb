// Holds HfBpeModel to what `tokenizers` 0.22.2's BPE model gives for the same vocabulary,
// merges and options (each expectation below is its models.BPE encoding of the word).
#include "eval/tokenizer/hf_bpe_model.h"

#include <string>
#include <utility>
#include <vector>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int32_t> Encode(const absl::flat_hash_map<std::string, int32_t>& vocab,
                            const std::vector<std::pair<std::string, std::string>>& merges,
                            const std::string& word, HfBpeOptions options = {}) {
  absl::StatusOr<HfBpeModel> model = HfBpeModel::Create(vocab, merges, std::move(options));
  EXPECT_THAT(model, IsOk());
  std::vector<int32_t> ids;
  if (model.ok()) model->Tokenize(word, ids);
  return ids;
}

TEST(HfBpeModelTest, LowestRankFirstThenLeftmost) {
  EXPECT_THAT(Encode({{"a", 0}, {"aa", 1}}, {{"a", "a"}}, "aaa"), ElementsAre(1, 0));
  const absl::flat_hash_map<std::string, int32_t> vocab = {
      {"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}};
  EXPECT_THAT(Encode(vocab, {{"a", "b"}, {"b", "c"}}, "abc"), ElementsAre(3, 2));
  EXPECT_THAT(Encode(vocab, {{"b", "c"}, {"a", "b"}}, "abc"), ElementsAre(0, 4));
  // A pair listed twice ranks where it is listed last.
  EXPECT_THAT(Encode(vocab, {{"a", "b"}, {"b", "c"}, {"a", "b"}}, "abc"), ElementsAre(0, 4));
}

// Byte fallback writes a character's bytes at once, while an unknown character waits
// to be fused with the next: so "z" (no byte tokens) comes out after "é"'s bytes.
TEST(HfBpeModelTest, ByteFallbackAndUnknownTokensInTheLibrarysOrder) {
  const absl::flat_hash_map<std::string, int32_t> vocab = {
      {"<unk>", 0}, {"<0xC3>", 1}, {"<0xA9>", 2}, {"a", 3}};
  HfBpeOptions fused;
  fused.unk_token = "<unk>";
  fused.byte_fallback = true;
  fused.fuse_unk = true;
  EXPECT_THAT(Encode(vocab, {}, "z\xC3\xA9" "a", fused), ElementsAre(1, 2, 0, 3));
  EXPECT_THAT(Encode(vocab, {}, "z\xC3\xA9zqa", fused), ElementsAre(1, 2, 0, 3));
  HfBpeOptions apart = fused;
  apart.fuse_unk = false;
  EXPECT_THAT(Encode(vocab, {}, "z\xC3\xA9zqa", apart), ElementsAre(1, 2, 0, 0, 0, 3));
  // Without an unknown token an unknown character is dropped.
  HfBpeOptions no_unk;
  no_unk.byte_fallback = true;
  EXPECT_THAT(Encode(vocab, {}, "z\xC3\xA9", no_unk), ElementsAre(1, 2));
  // Byte fallback needs every byte of the character; else the unknown token.
  EXPECT_THAT(Encode({{"<unk>", 0}, {"<0xC3>", 1}, {"a", 3}}, {}, "\xC3\xA9" "a", fused),
              ElementsAre(0, 3));
}

TEST(HfBpeModelTest, IgnoreMergesTakesAWordInTheVocabulary) {
  const absl::flat_hash_map<std::string, int32_t> vocab = {
      {"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"abc", 4}};
  EXPECT_THAT(Encode(vocab, {{"a", "b"}}, "abc"), ElementsAre(3, 2));
  HfBpeOptions options;
  options.ignore_merges = true;
  EXPECT_THAT(Encode(vocab, {{"a", "b"}}, "abc", options), ElementsAre(4));
}

TEST(HfBpeModelTest, ErrorsNameTheField) {
  EXPECT_THAT(HfBpeModel::Create({{"a", 0}}, {{"a", "\n"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model.merges[0] ('a' '\\n') needs '\\n'")));
  HfBpeOptions options;
  options.unk_token = "<unk>";
  EXPECT_THAT(HfBpeModel::Create({{"a", 0}}, {}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model.unk_token '<unk>' is not in model.vocab")));
}

}  // namespace
}  // namespace kvlab::tokenizer

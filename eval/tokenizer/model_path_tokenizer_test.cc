// TokenizerFromModelPath, and the same vocabulary read as GGUF and as tokenizer.json
// giving the same ids.
#include "eval/tokenizer/model_path_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/testing/default_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::tokenizer {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581

// Prose, digits, contractions, whitespace runs, accents, CJK, emoji, control bytes.
constexpr char kVariedText[] =
    " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 : Unrecorded Chronicles "
    "( Japanese : 戦場のヴァルキュリア3 , lit . Valkyria of the Battlefield 3 ) is a "
    "tactical role @-@ playing video game released in 2011 for $ 1 @,@ 234.56 .\n"
    "They'll say it's fine, WE'RE sure; don't.\t\tTabs\r\nand  runs   of    spaces\n\n\n"
    "Ünïcödé façade naïve — “quotes” … 😀🚀 Ελληνικά русский عربى हिन्दी 한국어\x01\x7f end";

std::string WriteDir(const std::string& name, const Json& tokenizer, const Json& config) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << tokenizer.dump();
  std::ofstream(dir + "/tokenizer_config.json") << config.dump();
  return dir;
}

// The default model's byte-level vocabulary (pre-tokenizer "smollm") written as its
// published tokenizer.json lays it out: Digits(individual) then ByteLevel.
TEST(ModelPathTokenizerTest, DefaultModelAsGgufAndAsTokenizerJsonAgree) {
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file =
      gguf::GgufFile::Open(testing::kDefaultModelPath);
  ASSERT_THAT(file, IsOk());
  absl::StatusOr<std::vector<std::string>> tokens = (*file)->GetStringArray("tokenizer.ggml.tokens");
  absl::StatusOr<std::vector<std::string>> merges = (*file)->GetStringArray("tokenizer.ggml.merges");
  absl::StatusOr<std::vector<int64_t>> types = (*file)->GetIntArray("tokenizer.ggml.token_type");
  ASSERT_THAT(tokens, IsOk());
  ASSERT_THAT(merges, IsOk());
  ASSERT_THAT(types, IsOk());
  ASSERT_THAT((*file)->GetString("tokenizer.ggml.pre"), IsOkAndHolds("smollm"));
  Json vocab = Json::object();
  Json added = Json::array();
  for (size_t i = 0; i < tokens->size(); ++i) {
    vocab[(*tokens)[i]] = i;
    if ((*types)[i] == 3) {
      added.push_back({{"id", i}, {"content", (*tokens)[i]}, {"special", true},
                       {"normalized", false}, {"lstrip", false}, {"rstrip", false},
                       {"single_word", false}});
    }
  }
  const Json json = {
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", *merges}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Digits"}, {"individual_digits", true}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}}},
      {"post_processor", {{"type", "ByteLevel"}}},
      {"added_tokens", added}};
  const std::string dir = WriteDir("smollm2", json, {{"add_bos_token", false}});
  absl::StatusOr<std::unique_ptr<Tokenizer>> from_json = TokenizerFromModelPath(dir);
  absl::StatusOr<std::unique_ptr<Tokenizer>> from_gguf =
      TokenizerFromModelPath(testing::kDefaultModelPath);
  ASSERT_THAT(from_json, IsOk());
  ASSERT_THAT(from_gguf, IsOk());
  const std::vector<int32_t> ids = (*from_json)->Encode(kVariedText, false);
  EXPECT_GT(ids.size(), 100u);
  EXPECT_EQ(ids, (*from_gguf)->Encode(kVariedText, false));
  EXPECT_EQ((*from_json)->vocab_size(), (*from_gguf)->vocab_size());
  EXPECT_EQ((*from_json)->add_bos(), (*from_gguf)->add_bos());
}

// A SentencePiece-style vocabulary with scores, as GGUF, and as tokenizer.json with the
// merges a SentencePiece conversion lists: every split of every normal token into two
// tokens, ordered by the merged token's score.
TEST(ModelPathTokenizerTest, SentencePieceVocabularyAsGgufAndAsTokenizerJsonAgree) {
  const std::string mark = kSpaceMark;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  const std::vector<std::string> pieces = {
      mark, "t", "h", "e", "a", "n", "d", "o", "r", "i", "s", "th", mark + "t", "he",
      mark + "th", mark + "the", "an", mark + "a", mark + "an", "nd", mark + "and",
      "or", "is", mark + "is", "at", "er", "re", "in", "on", "es", mark + "o", mark + "on",
      "ion", "ti", "tion", "se", "ed", mark + "s", "en", "ar"};
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 0; i < pieces.size(); ++i) {
    tokens.push_back(pieces[i]);
    types.push_back(1);
    scores.push_back(-static_cast<float>(i));  // Earlier pieces merge first.
  }
  gguf::GgufWriter w;
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddInt32Array("tokenizer.ggml.token_type", types);
  gguf::GgufValue::Array score_values;
  for (float s : scores) score_values.push_back(gguf::GgufValue::Float(gguf::ValueType::kFloat32, s));
  w.AddMetadata("tokenizer.ggml.scores",
                gguf::GgufValue::MakeArray(gguf::ValueType::kFloat32, std::move(score_values)));
  w.AddUint32("tokenizer.ggml.bos_token_id", 1);
  w.AddUint32("tokenizer.ggml.eos_token_id", 2);
  w.AddBool("tokenizer.ggml.add_space_prefix", true);
  const std::string gguf_path = ::testing::TempDir() + "/spm.gguf";
  ASSERT_THAT(w.WriteFile(gguf_path), IsOk());

  Json vocab = Json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  std::vector<std::tuple<float, std::string, std::string>> ranked;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] != 1) continue;
    for (size_t cut = 1; cut < tokens[i].size(); ++cut) {
      const std::string left = tokens[i].substr(0, cut), right = tokens[i].substr(cut);
      if (vocab.contains(left) && vocab.contains(right)) ranked.emplace_back(scores[i], left, right);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  Json merges = Json::array();
  for (const auto& [score, left, right] : ranked) merges.push_back({left, right});
  const Json json = {
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"byte_fallback", true},
                 {"fuse_unk", true}, {"unk_token", "<unk>"}}},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", mark}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", mark}}}}}},
      {"added_tokens",
       {{{"id", 1}, {"content", "<s>"}, {"special", true}, {"normalized", false},
         {"lstrip", false}, {"rstrip", false}, {"single_word", false}},
        {{"id", 2}, {"content", "</s>"}, {"special", true}, {"normalized", false},
         {"lstrip", false}, {"rstrip", false}, {"single_word", false}}}}};
  const std::string dir =
      WriteDir("spm", json, {{"add_bos_token", true}, {"bos_token", "<s>"}, {"eos_token", "</s>"}});
  absl::StatusOr<std::unique_ptr<Tokenizer>> from_json = TokenizerFromModelPath(dir);
  absl::StatusOr<std::unique_ptr<Tokenizer>> from_gguf = TokenizerFromModelPath(gguf_path);
  ASSERT_THAT(from_json, IsOk());
  ASSERT_THAT(from_gguf, IsOk());
  EXPECT_TRUE((*from_json)->add_bos());
  EXPECT_EQ((*from_json)->bos_id(), (*from_gguf)->bos_id());
  EXPECT_EQ((*from_json)->eos_id(), (*from_gguf)->eos_id());
  for (const char* text : {kVariedText, "the and is on tion", "then there in the station",
                           " leading space", "the  the"}) {
    EXPECT_EQ((*from_json)->Encode(text, true), (*from_gguf)->Encode(text, true)) << text;
  }
}

TEST(ModelPathTokenizerTest, DirectoryWithoutTokenizerJsonIsNotFound) {
  const std::string dir = ::testing::TempDir() + "/empty_model";
  std::filesystem::create_directories(dir);
  EXPECT_THAT(TokenizerFromModelPath(dir),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("empty_model: a model directory "
                                                              "needs a tokenizer.json")));
}

TEST(ModelPathTokenizerTest, TokenizerJsonPathIsReadAsOne) {
  const std::string path = ::testing::TempDir() + "/bad/tokenizer.json";
  std::filesystem::create_directories(::testing::TempDir() + "/bad");
  std::ofstream(path) << "[]";
  EXPECT_THAT(TokenizerFromModelPath(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad/tokenizer.json: must be a JSON object")));
}

}  // namespace
}  // namespace kvlab::tokenizer

#include "eval/model/vocabulary_agreement.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/tiny_llama.h"
#include "eval/tokenizer/model_path_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class VocabularyAgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_THAT(WriteTinyLlama(dir_ + "/tiny.gguf"), IsOk());
    ASSERT_THAT(ConvertGgufToHf(dir_ + "/tiny.gguf", dir_ + "/hf", /*shard_bytes=*/1 << 30),
                IsOk());
  }

  // Opens the model at `path` with its tokenizer and checks they agree.
  absl::Status Check(const std::string& path) {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(path));
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                           tokenizer::TokenizerFromModelPath(path));
    KVLAB_ASSIGN_OR_RETURN(const ModelInfo info, ReadModelInfo(*files));
    return CheckVocabularyAgreement(*tokenizer, *files, info);
  }

  // Sets config.json's `field` to `value`.
  void EditConfig(const std::string& field, const nlohmann::json& value) {
    const std::string path = dir_ + "/hf/config.json";
    ASSERT_OK_AND_ASSIGN(const std::string text, ReadFileToString(path));
    nlohmann::json config = nlohmann::json::parse(text);
    config[field] = value;
    ASSERT_THAT(WriteFileAtomically(path, config.dump()), IsOk());
  }

  std::string dir_;
};

TEST_F(VocabularyAgreementTest, AModelsOwnTokenizerAgrees) {
  EXPECT_THAT(Check(dir_ + "/tiny.gguf"), IsOk());
  EXPECT_THAT(Check(dir_ + "/hf"), IsOk());
}

TEST_F(VocabularyAgreementTest, AVocabularySizeFarFromTheModelsNamesBothFiles) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(dir_ + "/hf"));
  ASSERT_OK_AND_ASSIGN(const ModelInfo info, ReadModelInfo(*files));
  // Padding rows are fine; a tokenizer of another model is not, larger or smaller.
  EditConfig("vocab_size", info.vocab + 64);
  EXPECT_THAT(Check(dir_ + "/hf"), IsOk());
  for (const int64_t vocab : {info.vocab + kVocabularySlack + 1, info.vocab + 5000}) {
    EditConfig("vocab_size", vocab);
    EXPECT_THAT(Check(dir_ + "/hf"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(dir_ + "/hf/tokenizer.json holds " +
                                         std::to_string(info.vocab) + " tokens"),
                               HasSubstr(dir_ + "/hf/config.json's vocab_size is " +
                                         std::to_string(vocab)))));
  }
}

TEST_F(VocabularyAgreementTest, SpecialTokensMustBeTheConfigsNamingBothFiles) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                       tokenizer::TokenizerFromModelPath(dir_ + "/hf"));
  ASSERT_GE(tokenizer->bos_id(), 0);
  EditConfig("bos_token_id", tokenizer->bos_id());
  EXPECT_THAT(Check(dir_ + "/hf"), IsOk());
  EditConfig("bos_token_id", 3);
  EXPECT_THAT(Check(dir_ + "/hf"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(dir_ + "/hf/tokenizer.json gives BOS the id " +
                                       std::to_string(tokenizer->bos_id())),
                             HasSubstr(dir_ + "/hf/config.json's bos_token_id is 3"))));
  // A list (Llama 3.1's eos_token_id) allows any of its ids.
  EditConfig("bos_token_id", nlohmann::json::array({3, tokenizer->bos_id()}));
  EXPECT_THAT(Check(dir_ + "/hf"), IsOk());
  EditConfig("bos_token_id", nlohmann::json::array({3, 4}));
  EXPECT_THAT(Check(dir_ + "/hf"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bos_token_id is [3, 4]")));
}

TEST_F(VocabularyAgreementTest, TextIdsWithoutAnEmbeddingRowNameBothFiles) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(dir_ + "/hf"));
  ASSERT_OK_AND_ASSIGN(const ModelInfo info, ReadModelInfo(*files));
  const std::vector<int32_t> fine = {0, 1, static_cast<int32_t>(info.vocab - 1)};
  EXPECT_THAT(CheckTextTokens(fine, *files, info), IsOk());
  const std::vector<int32_t> beyond = {0, static_cast<int32_t>(info.vocab)};
  EXPECT_THAT(CheckTextTokens(beyond, *files, info),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(dir_ + "/hf/tokenizer.json gives the text the id " +
                                       std::to_string(info.vocab) + " (token 1)"),
                             HasSubstr(dir_ + "/hf/config.json has no embedding row"))));
}

// The tiny GGUF's tokenizer.json (its conversion's) as a file of its own, edited by
// `edit` (model.vocab and added_tokens, as a JSON object).
class SeparateTokenizerTest : public VocabularyAgreementTest {
 protected:
  std::string WriteTokenizer(const std::string& name,
                             const std::function<void(nlohmann::json&)>& edit) {
    const std::string path = dir_ + "/" + name + "/tokenizer.json";
    std::filesystem::create_directories(dir_ + "/" + name);
    absl::StatusOr<std::string> text = ReadFileToString(dir_ + "/hf/tokenizer.json");
    EXPECT_THAT(text, IsOk());
    nlohmann::json json = nlohmann::json::parse(*text);
    edit(json);
    EXPECT_THAT(WriteFileAtomically(path, json.dump()), IsOk());
    return path;
  }

  // Opens the model at `model` with the tokenizer at `tokenizer_file` and checks them.
  absl::Status CheckSeparate(const std::string& model, const std::string& tokenizer_file) {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(model));
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                           tokenizer::TokenizerFromModelPath(tokenizer_file));
    KVLAB_ASSIGN_OR_RETURN(const ModelInfo info, ReadModelInfo(*files));
    return CheckSeparateTokenizer(*tokenizer, tokenizer_file, *files, info);
  }
};

// Two ordinary tokens of model.vocab (no added token's): their keys.
std::pair<std::string, std::string> TwoTokens(const nlohmann::json& json) {
  std::set<int64_t> added;
  for (const nlohmann::json& token : json["added_tokens"]) added.insert(token["id"].get<int64_t>());
  std::vector<std::string> keys;
  for (const auto& [key, id] : json["model"]["vocab"].items()) {
    if (added.count(id.get<int64_t>()) == 0 && id.get<int64_t>() >= 10) keys.push_back(key);
    if (keys.size() == 2) break;
  }
  return {keys.at(0), keys.at(1)};
}

TEST_F(SeparateTokenizerTest, TheModelsOwnVocabularyAgrees) {
  const std::string same = WriteTokenizer("same", [](nlohmann::json&) {});
  EXPECT_THAT(CheckSeparate(dir_ + "/tiny.gguf", same), IsOk());
  EXPECT_THAT(CheckSeparate(dir_ + "/tiny.gguf", dir_ + "/same"), IsOk());
  EXPECT_THAT(CheckSeparate(dir_ + "/hf", same), IsOk());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<tokenizer::Tokenizer> gguf_tokenizer,
                       tokenizer::TokenizerFromModelPath(dir_ + "/tiny.gguf"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<tokenizer::Tokenizer> json_tokenizer,
                       tokenizer::TokenizerFromModelPath(same));
  EXPECT_EQ(VocabularyHash(gguf_tokenizer->tokens()), VocabularyHash(json_tokenizer->tokens()));
}

TEST_F(SeparateTokenizerTest, APermutedVocabularyIsRefusedNamingBothFiles) {
  std::pair<std::string, std::string> swapped;
  const std::string permuted = WriteTokenizer("permuted", [&](nlohmann::json& json) {
    swapped = TwoTokens(json);
    nlohmann::json& vocab = json["model"]["vocab"];
    std::swap(vocab[swapped.first], vocab[swapped.second]);
  });
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(dir_ + "/tiny.gguf"));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> tokens,
                       files->gguf()->GetStringArray("tokenizer.ggml.tokens"));
  const int64_t first = std::min(std::find(tokens.begin(), tokens.end(), swapped.first),
                                 std::find(tokens.begin(), tokens.end(), swapped.second)) -
                        tokens.begin();
  EXPECT_THAT(
      CheckSeparate(dir_ + "/tiny.gguf", permuted),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(permuted + ": its vocabulary is not " + dir_ +
                               "/tiny.gguf's (tokenizer.ggml.tokens): at id " +
                               std::to_string(first) + " the model has '"),
                     HasSubstr("(vocabulary hashes: the model's " + VocabularyHash(tokens) +
                               " of " + std::to_string(tokens.size()) + " tokens, the tokenizer's "),
                     HasSubstr("the tokenizer does not belong to this model"))));
  // A Hugging Face model directory compares with its own tokenizer.json.
  EXPECT_THAT(CheckSeparate(dir_ + "/hf", permuted),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(permuted + ": its vocabulary is not " + dir_ +
                                 "/hf/tokenizer.json's: at id ")));
}

TEST_F(SeparateTokenizerTest, AChangedOrShortenedVocabularyIsRefused) {
  const std::string changed = WriteTokenizer("changed", [](nlohmann::json& json) {
    nlohmann::json& vocab = json["model"]["vocab"];
    const std::string key = TwoTokens(json).first;
    vocab["\xe2\x96\x81zzz-not-a-token"] = vocab[key];
    vocab.erase(key);
  });
  EXPECT_THAT(CheckSeparate(dir_ + "/tiny.gguf", changed),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(changed + ": its vocabulary is not " + dir_ +
                                       "/tiny.gguf's (tokenizer.ggml.tokens)"),
                             HasSubstr("and the tokenizer '\xe2\x96\x81zzz-not-a-token'"))));
}

TEST(VocabularyHashTest, CanonicalFormDropsLlamaCppsPaddingOnly) {
  const std::vector<std::string> vocabulary = {"a", "b", "c"};
  // convert_hf_to_gguf.py writes "[PAD<id>]" for every id tokenizer.json does not name.
  EXPECT_EQ(VocabularyHash({"a", "b", "c", "[PAD3]", "[PAD4]"}), VocabularyHash(vocabulary));
  EXPECT_EQ(VocabularyHash({"a", "[PAD1]", "c"}), VocabularyHash({"a", "", "c"}));
  // A placeholder naming another id, or a real token, is a token.
  EXPECT_NE(VocabularyHash({"a", "b", "c", "[PAD7]"}), VocabularyHash(vocabulary));
  EXPECT_NE(VocabularyHash({"a", "[PAD1]", "c"}), VocabularyHash(vocabulary));
  // Order matters, and lengths keep token boundaries apart.
  EXPECT_NE(VocabularyHash({"b", "a", "c"}), VocabularyHash(vocabulary));
  EXPECT_NE(VocabularyHash({"ab", "", "c"}), VocabularyHash({"a", "bc"}));
  EXPECT_EQ(VocabularyHash(vocabulary).size(), 32u);
}

}  // namespace
}  // namespace kvlab::model

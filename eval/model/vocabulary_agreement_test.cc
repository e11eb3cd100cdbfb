#include "eval/model/vocabulary_agreement.h"

#include <filesystem>
#include <memory>
#include <string>

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

}  // namespace
}  // namespace kvlab::model

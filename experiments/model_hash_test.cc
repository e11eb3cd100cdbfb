#include "experiments/model_hash.h"

#include <filesystem>
#include <memory>
#include <string>

#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/tiny_llama.h"
#include "experiments/fingerprint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;

class ModelHashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_THAT(model::WriteTinyLlama(dir_ + "/tiny.gguf"), IsOk());
    ASSERT_THAT(model::ConvertGgufToHf(dir_ + "/tiny.gguf", dir_ + "/hf", 1 << 30), IsOk());
  }

  std::string dir_;
};

TEST_F(ModelHashTest, ASeparateTokenizersFilesArePartOfTheHash) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<model::ModelFiles> files,
                       model::ModelFiles::Open(dir_ + "/tiny.gguf"));
  // The model's own tokenizer: the GGUF's hash, as committed runs recorded it.
  ASSERT_OK_AND_ASSIGN(const std::string own, HashModel(*files));
  ASSERT_OK_AND_ASSIGN(const std::string gguf, HashFile(dir_ + "/tiny.gguf"));
  EXPECT_EQ(own, gguf);
  const std::string tokenizer = dir_ + "/hf/tokenizer.json";
  ASSERT_OK_AND_ASSIGN(const std::string with, HashModel(*files, tokenizer));
  EXPECT_NE(with, own);
  ASSERT_OK_AND_ASSIGN(const std::string text, ReadFileToString(tokenizer));
  ASSERT_THAT(WriteFileAtomically(tokenizer, text + " "), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::string edited, HashModel(*files, tokenizer));
  EXPECT_NE(edited, with);
}

TEST_F(ModelHashTest, TokenizerFilesAreWhatTheTokenizerReads) {
  const std::string hf = dir_ + "/hf";
  ASSERT_THAT(WriteFileAtomically(hf + "/tokenizer_config.json", "{}"), IsOk());
  EXPECT_THAT(TokenizerFiles(hf),
              ElementsAre(hf + "/tokenizer.json", hf + "/tokenizer_config.json"));
  EXPECT_THAT(TokenizerFiles(hf + "/tokenizer.json"),
              ElementsAre(hf + "/tokenizer.json", hf + "/tokenizer_config.json"));
  std::filesystem::remove(hf + "/tokenizer_config.json");
  EXPECT_THAT(TokenizerFiles(hf), ElementsAre(hf + "/tokenizer.json"));
  EXPECT_THAT(TokenizerFiles(hf + "/tokenizer.json"), ElementsAre(hf + "/tokenizer.json"));
  EXPECT_THAT(TokenizerFiles(dir_ + "/tiny.gguf"), ElementsAre(dir_ + "/tiny.gguf"));
}

}  // namespace
}  // namespace kvlab::experiments

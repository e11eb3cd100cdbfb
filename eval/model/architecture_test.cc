#include "eval/model/architecture.h"

#include <memory>
#include <string>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/tiny_gemma3.h"
#include "eval/model/tiny_llama.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An architecture that only has names, to test registration.
class Named : public Architecture {
 public:
  Named(std::string name, std::string model_type)
      : name_(std::move(name)), model_type_(std::move(model_type)) {}
  std::string Name() const override { return name_; }
  std::string HfModelType() const override { return model_type_; }
  std::string HfClassName() const override { return "NamedForCausalLM"; }
  absl::StatusOr<std::unique_ptr<ModelConfig>> FromGguf(const gguf::GgufFile&) const override {
    return absl::UnimplementedError("names only");
  }
  absl::StatusOr<std::unique_ptr<ModelConfig>> FromHf(const HfConfig&) const override {
    return absl::UnimplementedError("names only");
  }

 private:
  std::string name_;
  std::string model_type_;
};

std::unique_ptr<gguf::GgufFile> Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(path);
  EXPECT_THAT(file, IsOk());
  return file.ok() ? *std::move(file) : nullptr;
}

TEST(ArchitectureTest, EveryLinkedArchitectureIsRegistered) {
  EXPECT_THAT(ArchitectureNames(), ElementsAre("gemma3", "llama", "qwen2"));
}

TEST(ArchitectureTest, AGgufFileIsRunByItsGeneralArchitecture) {
  const std::string llama = ::testing::TempDir() + "/architecture_llama.gguf";
  ASSERT_THAT(WriteTinyLlama(llama), IsOk());
  const std::string gemma3 = ::testing::TempDir() + "/architecture_gemma3.gguf";
  ASSERT_THAT(WriteTinyGemma3(gemma3), IsOk());
  for (const auto& [path, name] : std::vector<std::pair<std::string, std::string>>{
           {llama, "llama"}, {gemma3, "gemma3"}}) {
    const std::unique_ptr<gguf::GgufFile> file = Open(path);
    ASSERT_NE(file, nullptr);
    ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> architecture,
                         GgufArchitecture(*file));
    EXPECT_EQ(architecture->Name(), name);
    ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> config,
                         architecture->FromGguf(*file));
    EXPECT_EQ(config->Info().architecture, name);
  }
}

TEST(ArchitectureTest, AnUnregisteredArchitectureListsTheRegisteredOnes) {
  TinyGemma3Options options;
  options.architecture = "phi3";
  const std::string path = ::testing::TempDir() + "/architecture_phi3.gguf";
  ASSERT_THAT(WriteTinyGemma3(path, options), IsOk());
  const std::unique_ptr<gguf::GgufFile> file = Open(path);
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(GgufArchitecture(*file),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("architecture_phi3.gguf: general.architecture is 'phi3'"),
                             HasSubstr("kvlab runs gemma3, llama, qwen2"))));
}

TEST(ArchitectureDeathTest, ANameOrModelTypeClaimedTwiceAbortsAtStartUp) {
  EXPECT_DEATH(RegisterArchitecture("llama", [] { return std::make_unique<Named>("llama", "x"); }),
               "two architectures are registered as 'llama'");
  EXPECT_DEATH(
      RegisterArchitecture("mine", [] { return std::make_unique<Named>("mine", "gemma3_text"); }),
      "architectures 'gemma3' and 'mine' both claim model_type 'gemma3_text'");
  EXPECT_DEATH(
      RegisterArchitecture("mine", [] { return std::make_unique<Named>("other", "other"); }),
      "architecture registered as 'mine' names itself 'other'");
}

}  // namespace
}  // namespace kvlab::model

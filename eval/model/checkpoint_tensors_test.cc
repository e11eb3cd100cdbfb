#include "eval/model/checkpoint_tensors.h"

#include <filesystem>
#include <memory>
#include <string>

#include "base/files.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/tiny_gemma3.h"
#include "eval/model/tiny_llama.h"
#include "eval/safetensors/safetensors_file.h"
#include "eval/safetensors/safetensors_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class CheckpointTensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  absl::Status Check(const std::string& path) {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(path));
    KVLAB_ASSIGN_OR_RETURN(const ModelInfo info, ReadModelInfo(*files));
    return CheckEveryTensorIsRead(*files, info);
  }

  // Rewrites `path` (one safetensors file) with an extra F32 tensor `name` of 4 zeros.
  void AddTensor(const std::string& path, const std::string& name) {
    ASSERT_OK_AND_ASSIGN(const std::string bytes, ReadFileToString(path));
    const absl::Span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()),
                                         bytes.size());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<safetensors::SafetensorsFile> file,
                         safetensors::SafetensorsFile::FromBytes(path, span));
    safetensors::SafetensorsWriter writer;
    for (const safetensors::SafetensorsTensor& t : file->tensors()) {
      const absl::Span<const uint8_t> data = file->TensorBytes(t);
      writer.AddTensor(t.name, std::string(safetensors::DtypeName(t.dtype)), t.shape,
                       std::string(data.begin(), data.end()));
    }
    writer.AddTensor(name, "F32", {4}, std::string(16, '\0'));
    ASSERT_THAT(writer.WriteFile(path), IsOk());
  }

  void SetLayers(const std::string& config_path, int layers) {
    ASSERT_OK_AND_ASSIGN(const std::string text, ReadFileToString(config_path));
    nlohmann::json config = nlohmann::json::parse(text);
    config["num_hidden_layers"] = layers;
    ASSERT_THAT(WriteFileAtomically(config_path, config.dump()), IsOk());
  }

  std::string dir_;
};

TEST_F(CheckpointTensorsTest, EveryTensorOfTheTinyModelsIsRead) {
  ASSERT_THAT(WriteTinyLlama(dir_ + "/llama.gguf"), IsOk());
  TinyLlamaOptions untied;
  untied.tied_embeddings = false;
  ASSERT_THAT(WriteTinyLlama(dir_ + "/untied.gguf", untied), IsOk());
  ASSERT_THAT(WriteTinyGemma3(dir_ + "/gemma3.gguf"), IsOk());
  for (const char* name : {"llama", "untied", "gemma3"}) {
    const std::string gguf = dir_ + "/" + name + ".gguf";
    EXPECT_THAT(Check(gguf), IsOk()) << name;
    ASSERT_THAT(ConvertGgufToHf(gguf, dir_ + "/" + name, 1 << 30), IsOk());
    EXPECT_THAT(Check(dir_ + "/" + name), IsOk()) << name;
  }
}

// config.json saying fewer layers than the checkpoint holds: the first tensor of a
// layer beyond the count is named, with the file and the key.
TEST_F(CheckpointTensorsTest, LayersBeyondTheConfigNameTheTensorAndTheKey) {
  ASSERT_THAT(WriteTinyLlama(dir_ + "/llama.gguf"), IsOk());
  ASSERT_THAT(ConvertGgufToHf(dir_ + "/llama.gguf", dir_ + "/hf", 1 << 30), IsOk());
  SetLayers(dir_ + "/hf/config.json", 1);
  EXPECT_THAT(Check(dir_ + "/hf"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(dir_ + "/hf/model.safetensors: tensor 'model.layers.1."),
                             HasSubstr("is for layer 1, but " + dir_ +
                                       "/hf/config.json's num_hidden_layers is 1 (layers 0..0)"))));
}

TEST_F(CheckpointTensorsTest, UnknownTensorsAreErrorsAndVisionTowersAreIgnored) {
  ASSERT_THAT(WriteTinyLlama(dir_ + "/llama.gguf"), IsOk());
  ASSERT_THAT(ConvertGgufToHf(dir_ + "/llama.gguf", dir_ + "/hf", 1 << 30), IsOk());
  const std::string weights = dir_ + "/hf/model.safetensors";
  AddTensor(weights, "model.vision_tower.patch_embed.weight");
  AddTensor(weights, "multi_modal_projector.linear.weight");
  AddTensor(weights, "model.layers.0.self_attn.rotary_emb.inv_freq");
  EXPECT_THAT(Check(dir_ + "/hf"), IsOk());
  AddTensor(weights, "model.layers.0.mlp.extra_proj.weight");
  EXPECT_THAT(Check(dir_ + "/hf"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(weights + ": tensor 'model.layers.0.mlp.extra_proj.weight' is not "
                                           "one kvlab's llama reads")));
}

}  // namespace
}  // namespace kvlab::model

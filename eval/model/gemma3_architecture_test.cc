// The gemma3 architecture: its names, and that it reads a GGUF into a model and writes
// back a config.json and tensors that read as the same model.
#include <ATen/ATen.h>

#include <memory>
#include <set>
#include <string>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/architecture.h"
#include "eval/model/gguf_weight_source.h"
#include "eval/model/tiny_gemma3.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

TEST(Gemma3ArchitectureTest, RegistersWithItsHuggingFaceNames) {
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> a,
                       ArchitectureRegistry().Create("gemma3", google::protobuf::Any()));
  EXPECT_EQ(a->Name(), "gemma3");
  EXPECT_EQ(a->HfModelType(), "gemma3_text");
  EXPECT_EQ(a->HfClassName(), "Gemma3ForCausalLM");
}

TEST(Gemma3ArchitectureTest, ReadsBuildsAndConvertsBack) {
  const std::string path = ::testing::TempDir() + "/gemma3_architecture.gguf";
  TinyGemma3Options options;
  options.final_logit_softcap = 30.0;
  ASSERT_THAT(WriteTinyGemma3(path, options), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> gemma3, GgufArchitecture(*file));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> config, gemma3->FromGguf(*file));
  const ModelInfo info = config->Info();
  EXPECT_EQ(info.architecture, "gemma3");
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<DecoderModel> model,
                       config->Build(GgufWeightSource(*file), {}));
  EXPECT_EQ(model->info().attention.sliding_window, info.attention.sliding_window);

  // Every tensor of the file is one the model reads, its Q/K and post norms included.
  const std::set<std::string> read = config->TensorNames();
  for (const gguf::TensorInfo& tensor : file->tensors()) {
    EXPECT_EQ(read.count(tensor.name), 1) << tensor.name;
  }
  EXPECT_EQ(read.count("blk.0.attn_q_norm.weight"), 1);
  EXPECT_EQ(read.count("blk.0.post_ffw_norm.weight"), 1);

  // config.json reads back as the same model: local layers, windows, softcap.
  ASSERT_OK_AND_ASSIGN(const nlohmann::json json, config->HfConfigJson(path));
  EXPECT_EQ(json["model_type"], "gemma3_text");
  EXPECT_EQ(json["final_logit_softcapping"], 30.0);
  ASSERT_OK_AND_ASSIGN(const HfConfig hf, HfConfig::Parse("config.json", json.dump()));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> from_hf, gemma3->FromHf(hf));
  const ModelInfo back = from_hf->Info();
  EXPECT_EQ(back.attention.num_layers, info.attention.num_layers);
  EXPECT_EQ(back.attention.head_dim, info.attention.head_dim);
  EXPECT_EQ(back.attention.sliding_window, info.attention.sliding_window);
  EXPECT_EQ(back.vocab, info.vocab);
  EXPECT_EQ(from_hf->tied_embeddings(), config->tied_embeddings());

  // Norm weights: GGUF's 1 + w stored as transformers' w, and back.
  const at::Tensor norm = at::randn({32});
  const at::Tensor stored = config->ToHf("blk.0.attn_norm.weight", norm);
  EXPECT_TRUE(at::allclose(stored, norm - 1.0));
  EXPECT_TRUE(at::allclose(config->HfLayout().convert("blk.0.attn_norm.weight", stored), norm));
  EXPECT_EQ(config->HfLayout().hf_name("blk.2.post_attention_norm.weight"),
            "model.layers.2.post_attention_layernorm.weight");
}

}  // namespace
}  // namespace kvlab::model

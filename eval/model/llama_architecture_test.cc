// The llama and qwen2 architectures: their names, and that each reads a GGUF into a
// model and writes back a config.json and tensors that read as the same model.
#include <ATen/ATen.h>

#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/architecture.h"
#include "eval/model/gguf_weight_source.h"
#include "eval/model/tiny_hf.h"
#include "eval/model/tiny_llama.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

void ExpectSameModel(const ModelInfo& a, const ModelInfo& b) {
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.attention.num_layers, b.attention.num_layers);
  EXPECT_EQ(a.attention.q_heads, b.attention.q_heads);
  EXPECT_EQ(a.attention.kv_heads, b.attention.kv_heads);
  EXPECT_EQ(a.attention.head_dim, b.attention.head_dim);
  EXPECT_EQ(a.attention.sliding_window, b.attention.sliding_window);
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(a.context_length, b.context_length);
}

// Reads `path` with the architecture `name`, builds it, and checks the file's every
// tensor is one it reads and that its config.json reads back as the same model.
void CheckRoundTrip(const std::string& path, const std::string& name) {
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> architecture,
                       ArchitectureRegistry().Create(name, google::protobuf::Any()));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> config, architecture->FromGguf(*file));
  EXPECT_EQ(config->Info().architecture, name);
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<DecoderModel> model,
                       config->Build(GgufWeightSource(*file), {}));
  ExpectSameModel(model->info(), config->Info());

  const std::set<std::string> read = config->TensorNames();
  for (const gguf::TensorInfo& tensor : file->tensors()) {
    EXPECT_EQ(read.count(tensor.name), 1) << tensor.name;
  }

  ASSERT_OK_AND_ASSIGN(const nlohmann::json json, config->HfConfigJson(path));
  EXPECT_EQ(json["model_type"], architecture->HfModelType());
  EXPECT_EQ(json["architectures"][0], architecture->HfClassName());
  ASSERT_OK_AND_ASSIGN(const HfConfig hf, HfConfig::Parse("config.json", json.dump()));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> from_hf, architecture->FromHf(hf));
  ExpectSameModel(from_hf->Info(), config->Info());
  EXPECT_EQ(from_hf->tied_embeddings(), config->tied_embeddings());
}

TEST(LlamaArchitectureTest, RegistersLlamaAndQwen2WithTheirHuggingFaceNames) {
  for (const auto& [name, model_type, hf_class] :
       {std::tuple<std::string, std::string, std::string>{"llama", "llama", "LlamaForCausalLM"},
        {"qwen2", "qwen2", "Qwen2ForCausalLM"}}) {
    ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> a,
                         ArchitectureRegistry().Create(name, google::protobuf::Any()));
    EXPECT_EQ(a->Name(), name);
    EXPECT_EQ(a->HfModelType(), model_type);
    EXPECT_EQ(a->HfClassName(), hf_class);
  }
}

TEST(LlamaArchitectureTest, LlamaReadsBuildsAndConvertsBack) {
  const std::string path = ::testing::TempDir() + "/llama_architecture.gguf";
  TinyLlamaOptions options;
  options.tied_embeddings = false;
  ASSERT_THAT(WriteTinyLlama(path, options), IsOk());
  CheckRoundTrip(path, "llama");
}

TEST(LlamaArchitectureTest, Qwen2ReadsBuildsAndConvertsBack) {
  const std::string path = ::testing::TempDir() + "/qwen2_architecture.gguf";
  TinyHfOptions options;
  options.architecture = "qwen2";
  ASSERT_THAT(WriteTinyHfModelAsGguf(path, options), IsOk());
  CheckRoundTrip(path, "qwen2");
}

TEST(LlamaArchitectureTest, ToHfUndoesTheCheckpointConvention) {
  const std::string path = ::testing::TempDir() + "/llama_convention.gguf";
  ASSERT_THAT(WriteTinyLlama(path), IsOk());
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Architecture> llama, GgufArchitecture(*file));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<ModelConfig> config, llama->FromGguf(*file));
  const HfTensorLayout layout = config->HfLayout();
  ASSERT_TRUE(layout.convert != nullptr);
  EXPECT_EQ(layout.hf_name("blk.1.attn_q.weight"), "model.layers.1.self_attn.q_proj.weight");
  const int64_t rows = config->Info().attention.q_heads * config->Info().attention.head_dim;
  const at::Tensor q = at::randn({rows, 32});
  const at::Tensor stored = config->ToHf("blk.0.attn_q.weight", q);
  EXPECT_FALSE(at::equal(stored, q));  // Rotate-half order, not the model's.
  EXPECT_TRUE(at::equal(layout.convert("blk.0.attn_q.weight", stored), q));
  const at::Tensor v = at::randn({16, 32});
  EXPECT_TRUE(at::equal(config->ToHf("blk.0.attn_v.weight", v), v));
}

}  // namespace
}  // namespace kvlab::model

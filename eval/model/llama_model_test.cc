#include "eval/model/llama_model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/model/model_test_util.h"
#include "eval/model/tiny_llama.h"
#include "eval/testing/default_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<gguf::GgufFile> OpenTiny(const TinyLlamaOptions& options, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_THAT(WriteTinyLlama(path, options), IsOk());
  return ValueOrAddFailure(gguf::GgufFile::Open(path));
}

TEST(LlamaModelTest, ReadsConfigFromGguf) {
  TinyLlamaOptions options;
  options.tied_embeddings = false;
  auto file = OpenTiny(options, "config.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, {}));
  const LlamaConfig& c = model->config();
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.hidden, 32);
  EXPECT_EQ(c.q_heads, 4);
  EXPECT_EQ(c.kv_heads, 2);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab, 262);
  EXPECT_FALSE(c.tied_embeddings);
}

TEST(LlamaModelTest, TinyModelStreamingEqualsFullForward) {
  auto file = OpenTiny({}, "tiny.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, {}));
  const at::Tensor tokens = at::randint(0, model->config().vocab, {40}, at::kLong);
  at::Tensor full, streamed;
  ASSERT_NO_FATAL_FAILURE(FullAndStreamedLogits(*model, tokens, full, streamed));
  EXPECT_LT(MaxRelativeError(streamed, full), 1e-4);
}

TEST(LlamaModelTest, BatchRowsAreIndependent) {
  auto file = OpenTiny({}, "batch.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, {}));
  const at::Tensor tokens = at::randint(0, model->config().vocab, {2, 9}, at::kLong);
  ASSERT_OK_AND_ASSIGN(auto a, model->NewDenseCache());
  ASSERT_OK_AND_ASSIGN(auto b, model->NewDenseCache());
  ASSERT_OK_AND_ASSIGN(auto c, model->NewDenseCache());
  ASSERT_OK_AND_ASSIGN(const at::Tensor batched, model->Forward(tokens, 0, {a.get(), b.get()}));
  ASSERT_OK_AND_ASSIGN(const at::Tensor second_alone,
                       model->Forward(tokens.narrow(0, 1, 1), 0, {c.get()}));
  EXPECT_TRUE(at::allclose(batched[1], second_alone[0], 1e-5, 1e-5));
}

TEST(LlamaModelTest, RejectsBadInputs) {
  auto file = OpenTiny({}, "bad_inputs.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, {}));
  ASSERT_OK_AND_ASSIGN(auto cache, model->NewDenseCache());
  EXPECT_THAT(model->Forward(at::full({1, 2}, 5000, at::kLong), 0, {cache.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token ids")));
  EXPECT_THAT(model->Forward(at::zeros({2, 2}, at::kLong), 0, {cache.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 caches for a batch of 2")));
}

// bf16 and fp16 weights stay in that dtype (half the bytes of every matrix; the norm
// weights stay fp32) and give logits close to fp32's.
TEST(LlamaModelTest, NarrowWeightDtypesHalveMatricesAndStayClose) {
  auto file = OpenTiny({}, "dtypes.gguf");
  ASSERT_OK_AND_ASSIGN(auto fp32, LlamaModel::Load(*file, {}));
  const LlamaConfig& c = fp32->config();
  const int64_t norm_bytes = 4 * c.hidden * (2 * c.num_layers + 1);
  const at::Tensor tokens = at::randint(0, c.vocab, {1, 12}, at::kLong);
  ASSERT_OK_AND_ASSIGN(auto cache, fp32->NewDenseCache());
  ASSERT_OK_AND_ASSIGN(const at::Tensor fp32_hidden, fp32->Forward(tokens, 0, {cache.get()}));
  const at::Tensor expected = fp32->Logits(fp32_hidden);
  for (at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    LoadOptions options;
    options.weight_dtype = dtype;
    ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, options));
    EXPECT_EQ(model->weight_dtype(), dtype);
    EXPECT_EQ(model->WeightBytes() - norm_bytes, (fp32->WeightBytes() - norm_bytes) / 2);
    ASSERT_OK_AND_ASSIGN(auto narrow_cache, model->NewDenseCache());
    ASSERT_OK_AND_ASSIGN(const at::Tensor hidden, model->Forward(tokens, 0, {narrow_cache.get()}));
    const at::Tensor logits = model->Logits(hidden);
    EXPECT_EQ(logits.scalar_type(), at::kFloat);
    EXPECT_LT(MaxRelativeError(logits, expected), 0.05) << c10::toString(dtype);
  }
}

TEST(LlamaModelTest, RejectsWeightDtypeItCannotHold) {
  auto file = OpenTiny({}, "int_weights.gguf");
  LoadOptions options;
  options.weight_dtype = at::kInt;
  EXPECT_THAT(LlamaModel::Load(*file, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not Int")));
}

TEST(LlamaModelTest, MissingTensorNamesIt) {
  gguf::GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddUint32("llama.block_count", 1);
  w.AddUint32("llama.embedding_length", 8);
  w.AddUint32("llama.feed_forward_length", 16);
  w.AddUint32("llama.attention.head_count", 2);
  w.AddTensor("token_embd.weight", {8, 4}, gguf::TensorType::kF32,
              gguf::FloatBytes(std::vector<float>(32, 0.1f)));
  const std::string path = ::testing::TempDir() + "/missing.gguf";
  ASSERT_THAT(w.WriteFile(path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  EXPECT_THAT(LlamaModel::Load(*file, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("output_norm.weight")));
}

TEST(LlamaModelTest, RejectsOtherArchitectures) {
  gguf::GgufWriter w;
  w.AddString("general.architecture", "gpt2");
  const std::string path = ::testing::TempDir() + "/gpt2.gguf";
  ASSERT_THAT(w.WriteFile(path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  EXPECT_THAT(LlamaModel::Load(*file, {}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("'gpt2'")));
}

// The default model, 300 tokens: decoding through the cache one token at a time gives
// the logits of one causal forward over the whole sequence.
TEST(LlamaModelTest, DefaultModelStreamingEqualsFullForward) {
  at::set_num_threads(2);
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(testing::kDefaultModelPath));
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, {}));
  EXPECT_EQ(model->config().num_layers, 30);
  EXPECT_EQ(model->config().kv_heads, 3);
  EXPECT_TRUE(model->config().tied_embeddings);
  const at::Tensor tokens = at::randint(0, model->config().vocab, {300}, at::kLong);
  at::Tensor full, streamed;
  ASSERT_NO_FATAL_FAILURE(FullAndStreamedLogits(*model, tokens, full, streamed));
  EXPECT_LT(MaxRelativeError(streamed, full), 1e-4);
}

}  // namespace
}  // namespace kvlab::model

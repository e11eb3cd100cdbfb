// Native weights (LoadOptions::native_weights) against the same file dequantized to
// fp32, on tiny models written in every block type native weights multiply.
#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/gemma3_model.h"
#include "eval/model/gguf_weight_source.h"
#include "eval/model/llama_model.h"
#include "eval/model/model_test_util.h"
#include "eval/model/tiny_gemma3.h"
#include "eval/model/tiny_llama.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using gguf::TensorType;

struct TypeCase {
  TensorType type;
  const char* name;
  // Largest |native - fp32 logit| / max |fp32 logit| allowed (see below).
  double tolerance;
};

// ggml rounds each matmul's input to the type the weights' dot product takes: q8 for
// the quantized types (half a step of amax/127 per block: at most 0.4% of a block's
// largest activation), fp16 (2^-11 relative), bf16 (2^-8) or none for f32. Those
// errors average out over a dot product's terms and add up over the model's matmuls
// in series (two layers of four, then the output projection: nine), so q8 allows
// 9 x 0.4% ≈ 4% of the largest logit; fp16 and bf16 allow 9 ulps of theirs; f32 only
// a different summation order.
const std::vector<TypeCase>& AllTypes() {
  static const auto* types = new std::vector<TypeCase>{
      {TensorType::kF32, "F32", 1e-5},    {TensorType::kF16, "F16", 9 * 0x1p-11},
      {TensorType::kBF16, "BF16", 9 * 0x1p-8}, {TensorType::kQ4_0, "Q4_0", 0.04},
      {TensorType::kQ4_1, "Q4_1", 0.04},  {TensorType::kQ5_0, "Q5_0", 0.04},
      {TensorType::kQ5_1, "Q5_1", 0.04},  {TensorType::kQ8_0, "Q8_0", 0.04},
      {TensorType::kQ2_K, "Q2_K", 0.04},  {TensorType::kQ3_K, "Q3_K", 0.04},
      {TensorType::kQ4_K, "Q4_K", 0.04},  {TensorType::kQ5_K, "Q5_K", 0.04},
      {TensorType::kQ6_K, "Q6_K", 0.04}};
  return *types;
}

// Rows of whole K-quant super-blocks (256) for every matrix.
TinyLlamaOptions BlockSized(TensorType type) {
  TinyLlamaOptions options;
  options.hidden = 256;
  options.q_heads = 4;
  options.kv_heads = 2;
  options.ffn = 512;
  options.matrix_type = type;
  return options;
}

std::unique_ptr<gguf::GgufFile> OpenTiny(const TinyLlamaOptions& options, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name + ".gguf";
  EXPECT_THAT(WriteTinyLlama(path, options), IsOk());
  return ValueOrAddFailure(gguf::GgufFile::Open(path));
}

at::Tensor Logits(const DecoderModel& model, const at::Tensor& tokens) {
  absl::StatusOr<std::unique_ptr<KvCache>> cache = model.NewDenseCache();
  EXPECT_THAT(cache, IsOk());
  if (!cache.ok()) return {};
  absl::StatusOr<at::Tensor> hidden = model.Forward(tokens, 0, {cache->get()});
  EXPECT_THAT(hidden, IsOk());
  return hidden.ok() ? model.Logits(*hidden) : at::Tensor();
}

TEST(NativeWeightsTest, EveryBlockTypeGivesTheDequantizedLogitsWithinActivationRounding) {
  LoadOptions native;
  native.native_weights = true;
  const at::Tensor tokens = at::randint(0, 262, {1, 24}, at::kLong);
  for (const TypeCase& c : AllTypes()) {
    SCOPED_TRACE(c.name);
    auto file = OpenTiny(BlockSized(c.type), c.name);
    ASSERT_NE(file, nullptr);
    ASSERT_OK_AND_ASSIGN(auto dequantized, LlamaModel::Load(*file, {}));
    ASSERT_OK_AND_ASSIGN(auto kept, LlamaModel::Load(*file, native));
    const at::Tensor expected = Logits(*dequantized, tokens);
    const at::Tensor actual = Logits(*kept, tokens);
    ASSERT_TRUE(expected.defined() && actual.defined());
    EXPECT_LE(MaxRelativeError(actual, expected), c.tolerance);
    // The same next-token choice almost everywhere.
    EXPECT_GE(actual.argmax(-1).eq(expected.argmax(-1)).to(at::kFloat).mean().item<float>(),
              0.9f);
  }
}

TEST(NativeWeightsTest, WeightBytesAreTheFilesBlocksPlusFp32Norms) {
  for (const TypeCase& c : AllTypes()) {
    SCOPED_TRACE(c.name);
    const TinyLlamaOptions options = BlockSized(c.type);
    auto file = OpenTiny(options, std::string("bytes_") + c.name);
    ASSERT_NE(file, nullptr);
    LoadOptions native;
    native.native_weights = true;
    ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, native));
    int64_t matrices = 0;
    for (const gguf::TensorInfo& t : file->tensors()) {
      if (t.dims.size() == 2) matrices += static_cast<int64_t>(t.byte_size);
    }
    const int64_t norms = 4 * options.hidden * (2 * options.layers + 1);
    // The tied embedding is the output projection, counted once; nothing is dequantized.
    EXPECT_EQ(model->WeightBytes(), matrices + norms);
  }
}

TEST(NativeWeightsTest, TokenByTokenDecodingMatchesOneForward) {
  auto file = OpenTiny(BlockSized(TensorType::kQ4_K), "stream");
  LoadOptions native;
  native.native_weights = true;
  ASSERT_OK_AND_ASSIGN(auto model, LlamaModel::Load(*file, native));
  at::Tensor full, streamed;
  ASSERT_NO_FATAL_FAILURE(
      FullAndStreamedLogits(*model, at::randint(0, 262, {20}, at::kLong), full, streamed));
  // One row at a time or many, ggml rounds each row's activations alike; only the
  // kernels' summation order differs.
  EXPECT_LT(MaxRelativeError(streamed, full), 1e-4);
}

// A lone decoding row and the same row among nine give the same logits bit for bit once
// every product is padded to ggml's row-independent size; without the padding the model
// says its output depends on the row count (the K-quant kernels differ below 8 rows).
TEST(NativeWeightsTest, RowIndependentProductsGiveARowTheSameOutputInAnyBatch) {
  auto file = OpenTiny(BlockSized(TensorType::kQ4_K), "row_independent");
  LoadOptions native;
  native.native_weights = true;
  ASSERT_OK_AND_ASSIGN(auto plain, LlamaModel::Load(*file, native));
  EXPECT_TRUE(plain->OutputDependsOnRowCount());
  native.row_independent_products = true;
  ASSERT_OK_AND_ASSIGN(auto padded, LlamaModel::Load(*file, native));
  EXPECT_FALSE(padded->OutputDependsOnRowCount());

  const at::Tensor prompt = at::randint(0, 262, {1, 16}, at::kLong);
  const at::Tensor next = at::randint(0, 262, {1, 1}, at::kLong);
  // Logits of `next` after `prompt`, decoded in a batch of `rows` identical rows.
  const auto decode = [&](int64_t rows) -> at::Tensor {
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<KvCache*> pointers;
    for (int64_t r = 0; r < rows; ++r) {
      caches.push_back(ValueOrAddFailure(padded->NewDenseCache()));
      pointers.push_back(caches.back().get());
    }
    EXPECT_THAT(padded->Forward(prompt.expand({rows, -1}), 0, pointers), IsOk());
    const at::Tensor hidden = ValueOrAddFailure(padded->Forward(next.expand({rows, -1}), 16,
                                                                pointers));
    return padded->Logits(hidden.select(1, 0));  // [rows, vocab]
  };
  const at::Tensor alone = decode(1);
  const at::Tensor among_nine = decode(9);
  ASSERT_TRUE(alone.defined() && among_nine.defined());
  EXPECT_TRUE(at::equal(alone[0], among_nine[0]));
  EXPECT_TRUE(at::equal(among_nine[0], among_nine[8]));
}

TEST(NativeWeightsTest, Gemma3RunsNatively) {
  const std::string path = ::testing::TempDir() + "/gemma3_native.gguf";
  ASSERT_THAT(WriteTinyGemma3(path, {}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(path));
  LoadOptions native;
  native.native_weights = true;
  ASSERT_OK_AND_ASSIGN(auto dequantized, Gemma3Model::Load(*file, {}));
  ASSERT_OK_AND_ASSIGN(auto kept, Gemma3Model::Load(*file, native));
  const at::Tensor tokens = at::randint(0, 300, {1, 12}, at::kLong);
  EXPECT_LT(MaxRelativeError(Logits(*kept, tokens), Logits(*dequantized, tokens)), 1e-5);
  EXPECT_EQ(kept->WeightBytes(), dequantized->WeightBytes());  // F32 blocks are fp32.
}

TEST(NativeWeightsTest, AShapeMismatchIsAnErrorNamingTheFileAndTensor) {
  TinyLlamaOptions options = BlockSized(TensorType::kQ8_0);
  auto file = OpenTiny(options, "shape");
  // A config that expects a wider FFN than the file holds.
  ASSERT_OK_AND_ASSIGN(LlamaConfig config, LlamaConfig::FromGguf(*file));
  config.ffn = 1024;
  LoadOptions native;
  native.native_weights = true;
  EXPECT_THAT(LlamaModel::Load(config, GgufWeightSource(*file), native),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(file->path()), HasSubstr("blk.0.ffn_gate.weight"))));
}

}  // namespace
}  // namespace kvlab::model

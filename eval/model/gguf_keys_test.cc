// ReadDecoderSizes and ReadRopeScaling read a GGUF's sizes and frequency scaling as
// llama.cpp does.
#include "eval/model/gguf_keys.h"

#include <tuple>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A file holding `writer`'s metadata and tensors (nothing else is read).
std::unique_ptr<gguf::GgufFile> Write(gguf::GgufWriter& writer, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name + ".gguf";
  EXPECT_THAT(writer.WriteFile(path), IsOk());
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(path);
  EXPECT_THAT(file, IsOk());
  return file.ok() ? *std::move(file) : nullptr;
}

TEST(ReadRopeScalingTest, NoKeysIsNoScaling) {
  gguf::GgufWriter w;
  w.AddString("general.architecture", "llama");
  auto file = Write(w, "none");
  ASSERT_NE(file, nullptr);
  ASSERT_OK_AND_ASSIGN(const RopeScaling s, ReadRopeScaling(*file, "llama", 8, true));
  EXPECT_EQ(s.type, RopeScaling::Type::kNone);
  EXPECT_TRUE(s.frequency_divisors.empty());
}

TEST(ReadRopeScalingTest, LinearFactorAndFrequencyFactors) {
  gguf::GgufWriter w;
  w.AddString("llama.rope.scaling.type", "linear");
  w.AddFloat32("llama.rope.scaling.factor", 4.0f);
  w.AddTensor("rope_freqs.weight", {4}, gguf::TensorType::kF32,
              gguf::FloatBytes({1.0f, 1.0f, 2.5f, 8.0f}));
  auto file = Write(w, "linear_and_factors");
  ASSERT_NE(file, nullptr);
  ASSERT_OK_AND_ASSIGN(const RopeScaling s, ReadRopeScaling(*file, "llama", 8, true));
  EXPECT_EQ(s.type, RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(s.factor, 4.0);
  EXPECT_THAT(s.frequency_divisors, ElementsAre(1.0, 1.0, 2.5, 8.0));
  // Architectures whose graph ignores rope_freqs (qwen2, gemma3) do not read it.
  ASSERT_OK_AND_ASSIGN(const RopeScaling ignored, ReadRopeScaling(*file, "llama", 8, false));
  EXPECT_TRUE(ignored.frequency_divisors.empty());
}

TEST(ReadRopeScalingTest, OlderKeyAndTypeNone) {
  gguf::GgufWriter old;
  old.AddFloat32("llama.rope.scale_linear", 2.0f);  // No type: llama.cpp's default, linear.
  auto file = Write(old, "scale_linear");
  ASSERT_NE(file, nullptr);
  ASSERT_OK_AND_ASSIGN(const RopeScaling s, ReadRopeScaling(*file, "llama", 8, true));
  EXPECT_EQ(s.type, RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(s.factor, 2.0);
  gguf::GgufWriter none;
  none.AddString("llama.rope.scaling.type", "none");
  none.AddFloat32("llama.rope.scaling.factor", 2.0f);  // llama.cpp never scales under "none".
  file = Write(none, "type_none");
  ASSERT_NE(file, nullptr);
  ASSERT_OK_AND_ASSIGN(const RopeScaling unscaled, ReadRopeScaling(*file, "llama", 8, true));
  EXPECT_EQ(unscaled.type, RopeScaling::Type::kNone);
}

TEST(ReadRopeScalingTest, ErrorsNameTheFileAndKey) {
  gguf::GgufWriter yarn;
  yarn.AddString("llama.rope.scaling.type", "yarn");
  auto file = Write(yarn, "yarn");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadRopeScaling(*file, "llama", 8, true).status(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("yarn.gguf: llama.rope.scaling.type 'yarn' is not supported "
                                 "(kvlab runs 'none' and 'linear'")));
  gguf::GgufWriter negative;
  negative.AddFloat32("llama.rope.scaling.factor", -1.0f);
  file = Write(negative, "negative");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadRopeScaling(*file, "llama", 8, true).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("negative.gguf: llama.rope.scaling.factor must be > 0")));
  gguf::GgufWriter short_factors;
  short_factors.AddTensor("rope_freqs.weight", {3}, gguf::TensorType::kF32,
                          gguf::FloatBytes({1.0f, 1.0f, 1.0f}));
  file = Write(short_factors, "short_factors");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadRopeScaling(*file, "llama", 8, true).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("short_factors.gguf: rope_freqs.weight must be F32 of shape [4]")));
  gguf::GgufWriter zero_factor;
  zero_factor.AddTensor("rope_freqs.weight", {4}, gguf::TensorType::kF32,
                        gguf::FloatBytes({1.0f, 0.0f, 1.0f, 1.0f}));
  file = Write(zero_factor, "zero_factor");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadRopeScaling(*file, "llama", 8, true).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_freqs.weight[1] must be finite and > 0")));
}

// A GGUF holding `llama.` sizes (head_count_kv only when `kv_heads` > 0) and a
// token_embd.weight of `embedding_dims` (none if empty).
std::unique_ptr<gguf::GgufFile> WriteSizes(const std::string& name, uint32_t layers,
                                           uint32_t q_heads, uint32_t kv_heads,
                                           std::vector<int64_t> embedding_dims = {576, 8}) {
  gguf::GgufWriter w;
  w.AddUint32("llama.block_count", layers);
  w.AddUint32("llama.embedding_length", 576);
  w.AddUint32("llama.feed_forward_length", 1536);
  w.AddUint32("llama.attention.head_count", q_heads);
  if (kv_heads > 0) w.AddUint32("llama.attention.head_count_kv", kv_heads);
  if (!embedding_dims.empty()) {
    int64_t elements = 1;
    for (const int64_t d : embedding_dims) elements *= d;
    w.AddTensor("token_embd.weight", embedding_dims, gguf::TensorType::kF32,
                gguf::FloatBytes(std::vector<float>(elements)));
  }
  return Write(w, name);
}

TEST(ReadDecoderSizesTest, KeyValueHeadsAndHeadDimTakeLlamaCppsDefaults) {
  auto file = WriteSizes("sizes", 30, 9, 0);
  ASSERT_NE(file, nullptr);
  ASSERT_OK_AND_ASSIGN(const DecoderSizes s, ReadDecoderSizes(*file, "llama"));
  EXPECT_EQ(s.num_layers, 30);
  EXPECT_EQ(s.hidden, 576);
  EXPECT_EQ(s.ffn, 1536);
  EXPECT_EQ(s.q_heads, 9);
  EXPECT_EQ(s.kv_heads, 9);
  EXPECT_EQ(s.head_dim, 64);  // embedding_length / head_count.
  EXPECT_EQ(s.vocab, 8);      // token_embd.weight's rows.
}

TEST(ReadDecoderSizesTest, TheEmbeddingMustMatchTheWidth) {
  auto file = WriteSizes("narrow_embedding", 30, 9, 3, {512, 8});
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadDecoderSizes(*file, "llama").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("narrow_embedding.gguf: token_embd.weight must be [vocab, 576]")));
  file = WriteSizes("no_embedding", 30, 9, 3, {});
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadDecoderSizes(*file, "llama").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("token_embd.weight")));
}

TEST(ReadDecoderSizesTest, InconsistentOrUnboundedSizesNameTheFile) {
  for (const auto& [name, layers, kv_heads] :
       {std::tuple<const char*, uint32_t, uint32_t>{"heads_not_multiple", 30, 4},
        {"no_layers", 0, 3},
        {"too_many_layers", 1u << 31, 3}}) {
    auto file = WriteSizes(name, layers, 9, kv_heads);
    ASSERT_NE(file, nullptr);
    EXPECT_THAT(ReadDecoderSizes(*file, "llama").status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string(name) +
                                   ".gguf: inconsistent llama hyperparameters")))
        << name;
  }
  gguf::GgufWriter odd;
  odd.AddUint32("llama.block_count", 30);
  odd.AddUint32("llama.embedding_length", 576);
  odd.AddUint32("llama.feed_forward_length", 1536);
  odd.AddUint32("llama.attention.head_count", 9);
  odd.AddUint32("llama.attention.key_length", 63);
  auto file = Write(odd, "odd_key_length");
  ASSERT_NE(file, nullptr);
  EXPECT_THAT(ReadDecoderSizes(*file, "llama").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("odd_key_length.gguf: llama.attention.key_length must be even, "
                                 "> 0 and <= 65536, got 63")));
}

}  // namespace
}  // namespace kvlab::model

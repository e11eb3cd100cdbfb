#include <ATen/ATen.h>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/quantizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quant/integer.pb.h"

namespace kvlab::quant {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<TensorStore>> MakeStore(const std::string& name,
                                                       const IntegerQuantizerOptions& options,
                                                       int64_t residual = 0) {
  google::protobuf::Any any;
  any.PackFrom(options);
  KVLAB_ASSIGN_OR_RETURN(auto quantizer, QuantizerRegistry().Create(name, any));
  EXPECT_EQ(quantizer->Name(), name);
  absl::StatusOr<std::unique_ptr<TensorStore>> store =
      quantizer->MakeStore({3, 64, residual, at::kCPU});
  EXPECT_THAT(store, IsOk());
  return store;
}

TEST(IntegerQuantizerTest, BitsPerElementByName) {
  IntegerQuantizerOptions whole_vector;  // Per token, one group per vector, fp32 scales.
  ASSERT_OK_AND_ASSIGN(auto int8, MakeStore("int8", whole_vector));
  ASSERT_OK_AND_ASSIGN(auto int4, MakeStore("int4", whole_vector));
  ASSERT_OK_AND_ASSIGN(auto int2, MakeStore("int2", whole_vector));
  ASSERT_THAT(int8->Append(at::randn({3, 10, 64})), IsOk());
  ASSERT_THAT(int4->Append(at::randn({3, 10, 64})), IsOk());
  ASSERT_THAT(int2->Append(at::randn({3, 10, 64})), IsOk());
  // 64 levels plus one fp32 scale and zero per token and head.
  EXPECT_EQ(int8->held_bytes(), 3 * 10 * (64 + 8));
  EXPECT_EQ(int4->held_bytes(), 3 * 10 * (32 + 8));
  EXPECT_EQ(int2->held_bytes(), 3 * 10 * (16 + 8));
  EXPECT_THAT(int2->Describe(), HasSubstr("int2-asym"));
  EXPECT_THAT(int4->Describe(), HasSubstr("int4-asym g64 per-token"));
}

TEST(IntegerQuantizerTest, KiviLayoutIsOneConfigEach) {
  IntegerQuantizerOptions keys;
  keys.set_axis(IntegerQuantizerOptions::PER_CHANNEL);
  keys.set_group_size(32);
  IntegerQuantizerOptions values;
  values.set_group_size(32);
  ASSERT_OK_AND_ASSIGN(auto k, MakeStore("int4", keys, 128));
  ASSERT_OK_AND_ASSIGN(auto v, MakeStore("int4", values, 128));
  EXPECT_THAT(k->Describe(), HasSubstr("per-channel"));
  EXPECT_THAT(k->Describe(), HasSubstr("r128"));
  EXPECT_THAT(v->Describe(), HasSubstr("g32 per-token"));
}

TEST(IntegerQuantizerTest, KiviResidualFlushIsAnOption) {
  IntegerQuantizerOptions keys;
  keys.set_axis(IntegerQuantizerOptions::PER_CHANNEL);
  keys.set_group_size(32);
  keys.set_residual_flush(IntegerQuantizerOptions::FLUSH_KIVI);
  ASSERT_OK_AND_ASSIGN(auto k, MakeStore("int4", keys, 128));
  EXPECT_THAT(k->Describe(), HasSubstr("kivi-flush"));
  // 160 tokens: KIVI quantizes the first 128 and keeps the last 32 in full precision
  // (the default flush would quantize one block of 32 and keep 128).
  ASSERT_THAT(k->Append(at::randn({3, 160, 64})), IsOk());
  // Levels (4 bits: 32 bytes) for 128 tokens, 4 blocks of 64 fp32 scales and zeros, 32
  // fp32 residual tokens; per head.
  EXPECT_EQ(k->held_bytes(), 3 * (128 * 32 + 4 * 64 * 8 + 32 * 64 * 4));
}

// KIVI-2: keys per channel in blocks of 32 tokens, values per token in groups of 32
// channels, fp16 scales and zeros, R = 128 under KIVI's flush. 160 keys: 128 as 4
// blocks (levels 16 bytes a token, 64 channels x fp16 scale and zero a block) and 32
// in fp32; values: the oldest 32 as 2-bit groups (16 bytes + 2 groups x 4 bytes) and
// the newest 128 in fp32. Per head.
TEST(IntegerQuantizerTest, Kivi2BytesByHand) {
  IntegerQuantizerOptions keys;
  keys.set_axis(IntegerQuantizerOptions::PER_CHANNEL);
  keys.set_group_size(32);
  keys.set_scale_dtype(IntegerQuantizerOptions::FLOAT16);
  keys.set_residual_flush(IntegerQuantizerOptions::FLUSH_KIVI);
  IntegerQuantizerOptions values;
  values.set_group_size(32);
  values.set_scale_dtype(IntegerQuantizerOptions::FLOAT16);
  ASSERT_OK_AND_ASSIGN(auto k, MakeStore("int2", keys, 128));
  ASSERT_OK_AND_ASSIGN(auto v, MakeStore("int2", values, 128));
  const at::Tensor x = at::randn({3, 160, 64});
  ASSERT_THAT(k->Append(x), IsOk());
  ASSERT_THAT(v->Append(x), IsOk());
  EXPECT_EQ(k->held_bytes(), 3 * (128 * 16 + 4 * 64 * 4 + 32 * 64 * 4));
  EXPECT_EQ(v->held_bytes(), 3 * (32 * (16 + 2 * 4) + 128 * 64 * 4));
  // Four levels: a block's channel reads back within half its step, (max - min) / 3.
  const at::Tensor block = x.narrow(1, 0, 32);
  const at::Tensor step = (block.amax(1, true) - block.amin(1, true)) / 3;
  const at::Tensor error = (k->Materialize().narrow(1, 0, 32) - block).abs();
  EXPECT_TRUE((error <= step / 2 + 1e-2).all().item<bool>());
}

TEST(IntegerQuantizerTest, Int2IsCpuOnly) {
  google::protobuf::Any any;
  any.PackFrom(IntegerQuantizerOptions());
  ASSERT_OK_AND_ASSIGN(auto quantizer, QuantizerRegistry().Create("int2", any));
  EXPECT_THAT(quantizer->MakeStore({3, 64, 0, c10::Device(c10::kCUDA, 0)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CPU only")));
}

TEST(IntegerQuantizerTest, DefaultPerChannelBlockIs32Tokens) {
  IntegerQuantizerOptions options;
  options.set_axis(IntegerQuantizerOptions::PER_CHANNEL);
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore("int8", options));
  ASSERT_THAT(store->Append(at::randn({3, 40, 64})), IsOk());
  EXPECT_THAT(store->Describe(), HasSubstr("g32"));
}

TEST(IntegerQuantizerTest, BadOptionsAreErrors) {
  IntegerQuantizerOptions options;
  options.set_group_size(-1);
  google::protobuf::Any any;
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int4.group_size")));
  options.set_group_size(24);
  any.PackFrom(options);
  ASSERT_OK_AND_ASSIGN(auto quantizer, QuantizerRegistry().Create("int4", any));
  EXPECT_THAT(quantizer->MakeStore({3, 64, 0, at::kCPU}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("divide head_dim")));
  options.set_group_size(0);
  options.set_residual_flush(static_cast<IntegerQuantizerOptions::ResidualFlush>(9));
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int4.residual_flush")));
}

// llama.cpp's q4_1 cache: ggml's block (int4, groups of 32, fp16 scale and minimum),
// rotated by a 64-channel Walsh-Hadamard matrix. 5 bits per element, as without.
TEST(IntegerQuantizerTest, GgmlBlockWithHadamardRotation) {
  IntegerQuantizerOptions q4_1;
  q4_1.set_group_size(32);
  q4_1.set_scale_dtype(IntegerQuantizerOptions::FLOAT16);
  q4_1.set_rounding(IntegerQuantizerOptions::ROUNDING_GGML);
  q4_1.set_hadamard_block(64);
  ASSERT_OK_AND_ASSIGN(auto store, MakeStore("int4", q4_1));
  EXPECT_THAT(store->Describe(), HasSubstr("int4-asym-ggml g32 per-token"));
  EXPECT_THAT(store->Describe(), HasSubstr("hadamard64"));
  const at::Tensor x = at::randn({3, 10, 64});
  ASSERT_THAT(store->Append(x), IsOk());
  EXPECT_EQ(store->held_bytes(), 3 * 10 * (32 + 2 * 2 + 2 * 2));
  EXPECT_TRUE(at::allclose(store->Materialize(), x, 0, 0.5));
}

TEST(IntegerQuantizerTest, GgmlRoundingNeedsTheQ4Block) {
  IntegerQuantizerOptions options;
  options.set_group_size(32);
  options.set_scale_dtype(IntegerQuantizerOptions::FLOAT16);
  options.set_rounding(IntegerQuantizerOptions::ROUNDING_GGML);
  google::protobuf::Any any;
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any), IsOk());
  EXPECT_THAT(QuantizerRegistry().Create("int8", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int8.rounding")));
  options.set_group_size(64);
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("group_size 32")));
  options.set_group_size(32);
  options.set_scale_dtype(IntegerQuantizerOptions::FLOAT32);
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("FLOAT16")));
  options.set_scale_dtype(IntegerQuantizerOptions::FLOAT16);
  options.set_axis(IntegerQuantizerOptions::PER_CHANNEL);
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PER_TOKEN")));
}

TEST(IntegerQuantizerTest, BadHadamardBlocksAreErrors) {
  IntegerQuantizerOptions options;
  options.set_hadamard_block(-2);
  google::protobuf::Any any;
  any.PackFrom(options);
  EXPECT_THAT(QuantizerRegistry().Create("int4", any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int4.hadamard_block")));
  options.set_hadamard_block(48);
  any.PackFrom(options);
  ASSERT_OK_AND_ASSIGN(auto quantizer, QuantizerRegistry().Create("int4", any));
  EXPECT_THAT(quantizer->MakeStore({3, 64, 0, at::kCPU}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hadamard_block")));
}

}  // namespace
}  // namespace kvlab::quant

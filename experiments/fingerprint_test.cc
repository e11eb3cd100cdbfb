#include "experiments/fingerprint.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

TEST(FingerprintTest, WeightsDtypeChangesItExceptFp32WhichMatchesUnset) {
  config::Experiment e;
  e.mutable_chunked()->set_n_ctx(512);
  e.set_device("cpu");
  config::CacheConfig cache;
  cache.set_name("dense");
  const std::string unset = RunFingerprint(e, cache, "m", "t");
  e.set_weights_dtype(config::FP32);
  EXPECT_EQ(RunFingerprint(e, cache, "m", "t"), unset);
  e.set_weights_dtype(config::BF16);
  const std::string bf16 = RunFingerprint(e, cache, "m", "t");
  EXPECT_NE(bf16, unset);
  e.set_weights_dtype(config::FP16);
  const std::string fp16 = RunFingerprint(e, cache, "m", "t");
  EXPECT_NE(fp16, bf16);
  EXPECT_NE(fp16, unset);
  // Native weights (ggml's arithmetic) are a run of their own.
  e.set_weights_dtype(config::NATIVE);
  const std::string native = RunFingerprint(e, cache, "m", "t");
  EXPECT_NE(native, unset);
  EXPECT_NE(native, bf16);
  EXPECT_NE(native, fp16);
}

TEST(FingerprintTest, ComparisonWithDenseAndTheProtocolChangeIt) {
  config::Experiment e;
  e.mutable_prefill_compress()->set_context_tokens(64);
  config::CacheConfig cache;
  cache.set_name("h2o");
  const std::string plain = RunFingerprint(e, cache, "m", "t");
  e.set_compare_to_dense(true);
  const std::string compared = RunFingerprint(e, cache, "m", "t");
  EXPECT_NE(compared, plain);
  e.set_compare_to_dense(false);
  EXPECT_EQ(RunFingerprint(e, cache, "m", "t"), plain);
  e.mutable_compress_once()->set_context_tokens(64);
  EXPECT_NE(RunFingerprint(e, cache, "m", "t"), plain);
}

// Committed runs of experiments/configs/baseline.pbtxt (docs/results/baseline) and
// quant_chunked.pbtxt (docs/results/quant_chunked), as the loader fills their configs,
// on the XXH3-128 hashes of SmolLM2-135M-Instruct.Q4_1.gguf and WikiText-2's
// wiki.test.raw: a change that moves these makes every committed run stale.
TEST(FingerprintTest, CommittedRunsKeepTheirFingerprints) {
  const std::string model_hash = "1dff70ef9e211d0ab8951aa641e75aa1";
  const std::string text_hash = "439b44581857a242596e836d30938cc7";
  config::Experiment e;
  e.mutable_chunked()->set_n_ctx(512);
  e.mutable_chunked()->set_max_chunks(40);
  e.set_device("cpu");
  e.set_weights_dtype(config::FP32);
  config::CacheConfig dense;
  dense.set_name("dense-fp32");
  EXPECT_EQ(RunFingerprint(e, dense, model_hash, text_hash), "7382ff12fa7b8f395f96827368855eb9");
  config::CacheConfig int8;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "int8-token"
    keys {
      quantized {
        quantizer: "int8"
        options {
          [type.googleapis.com/kvlab.quant.IntegerQuantizerOptions] { scale_dtype: FLOAT16 }
        }
      }
    }
    values {
      quantized {
        quantizer: "int8"
        options {
          [type.googleapis.com/kvlab.quant.IntegerQuantizerOptions] { scale_dtype: FLOAT16 }
        }
      }
    })pb", &int8));
  EXPECT_EQ(RunFingerprint(e, int8, model_hash, text_hash), "72969ee6333d8f020933ebfc94254349");
}

TEST(FingerprintTest, ChangedMethodsHaveANewRevision) {
  config::CacheConfig cache;
  EXPECT_EQ(MethodRevision(cache), 1);
  cache.mutable_eviction()->set_policy("window");
  EXPECT_EQ(MethodRevision(cache), 1);
  cache.mutable_eviction()->set_policy("snapkv");
  EXPECT_EQ(MethodRevision(cache), 2);
  cache.mutable_eviction()->set_policy("knorm");
  EXPECT_EQ(MethodRevision(cache), 2);
  cache.mutable_eviction()->set_policy("random");
  EXPECT_EQ(MethodRevision(cache), 2);
  cache.mutable_eviction()->set_policy("lagkv");
  EXPECT_EQ(MethodRevision(cache), 2);
}

}  // namespace
}  // namespace kvlab::experiments

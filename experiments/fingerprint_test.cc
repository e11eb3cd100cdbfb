#include "experiments/fingerprint.h"

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
}

}  // namespace
}  // namespace kvlab::experiments

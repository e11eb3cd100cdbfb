#include "experiments/run_settings.h"

#include "base/status_matchers.h"
#include "experiments/library_build.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

config::Experiment TwoCaches(int batch_caches) {
  config::Experiment e;
  e.mutable_chunked()->set_n_ctx(512);
  e.add_caches()->set_name("dense");
  config::CacheConfig* tova = e.add_caches();
  tova->set_name("tova-int4");
  tova->mutable_eviction()->set_policy("tova");
  e.set_batch_caches(batch_caches);
  return e;
}

std::string Fingerprint(const config::Experiment& e, int i, int threads = 2,
                        const std::string& build = "build") {
  return WithRunSettings("run", e, i, threads, build);
}

// The issue this guards: runs made in lockstep pairs were taken by a batch-1 config.
TEST(RunSettingsTest, ABatchTwoRunIsNotABatchOneRun) {
  const config::Experiment pairs = TwoCaches(2);
  const config::Experiment alone = TwoCaches(1);
  for (int i : {0, 1}) EXPECT_NE(Fingerprint(pairs, i), Fingerprint(alone, i)) << i;
  EXPECT_NE(Fingerprint(pairs, 0), Fingerprint(pairs, 1));
}

TEST(RunSettingsTest, TheCompanyCountsNotItsNames) {
  config::Experiment e = TwoCaches(2);
  const std::string before = Fingerprint(e, 0);
  e.mutable_caches(1)->set_name("renamed");
  EXPECT_EQ(Fingerprint(e, 0), before);
  e.mutable_caches(1)->mutable_eviction()->set_policy("h2o");
  EXPECT_NE(Fingerprint(e, 0), before);
  // A cache in another batch is no company.
  config::Experiment three = TwoCaches(1);
  three.add_caches()->set_name("third");
  const std::string first = Fingerprint(three, 0);
  three.mutable_caches(2)->set_name("x");
  three.mutable_caches(2)->mutable_eviction()->set_policy("h2o");
  EXPECT_EQ(Fingerprint(three, 0), first);
}

TEST(RunSettingsTest, ThreadsDeviceWeightsAndLibrariesCount) {
  const config::Experiment e = TwoCaches(1);
  const std::string base = Fingerprint(e, 0);
  EXPECT_NE(Fingerprint(e, 0, /*threads=*/3), base);
  EXPECT_NE(Fingerprint(e, 0, 2, "another build"), base);
  config::Experiment other = e;
  other.set_device("cuda");
  EXPECT_NE(Fingerprint(other, 0), base);
  other = e;
  other.set_weights_dtype(config::BF16);
  EXPECT_NE(Fingerprint(other, 0), base);
  // The run's own fingerprint is part of it.
  EXPECT_NE(WithRunSettings("another run", e, 0, 2, "build"), base);
}

TEST(RunSettingsTest, NamesPathsAndTolerancesDoNotCount) {
  config::Experiment e = TwoCaches(1);
  const std::string base = Fingerprint(e, 0);
  e.set_name("renamed");
  e.set_model_path("/elsewhere/model.gguf");
  e.set_text_path("/elsewhere/text.txt");
  e.set_tokenizer_path("/elsewhere/tokenizer.json");  // Its contents: HashModel's part.
  e.set_output_dir("/elsewhere/out");
  e.set_baseline("tova-int4");
  e.set_allow_beyond_trained_context(true);
  e.set_min_scored_tokens(1);
  e.mutable_chunked()->set_n_ctx(256);  // RunFingerprint's part, not this one's.
  EXPECT_EQ(Fingerprint(e, 0), base);
}

TEST(RunSettingsTest, ThreadsAreBoundedByTheMachine) {
  EXPECT_THAT(ResolveThreads(0), IsOkAndHolds(MachineThreads()));
  EXPECT_THAT(ResolveThreads(1), IsOkAndHolds(1));
  EXPECT_THAT(ResolveThreads(MachineThreads()), IsOkAndHolds(MachineThreads()));
  EXPECT_THAT(ResolveThreads(10000),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("threads must be at most " + std::to_string(MachineThreads()) +
                                 " (the logical CPUs this machine has), got 10000")));
}

TEST(RunSettingsTest, TheLibraryBuildNamesLibTorchAndTheCpuKernels) {
  const std::string build = LibraryBuild();
  EXPECT_THAT(build, HasSubstr("TORCH_VERSION=2.11"));
  EXPECT_THAT(build, HasSubstr("cpu capability: "));
  EXPECT_THAT(build, HasSubstr("kvlab cuda kernels: "));
}

}  // namespace
}  // namespace kvlab::experiments

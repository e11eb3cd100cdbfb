#include "experiments/config_loader.h"

#include "absl/strings/str_cat.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kMinimal[] = R"pb(
  text_path: "wiki.txt"
  chunked {}
  caches { name: "dense" }
)pb";

TEST(ConfigLoaderTest, FillsDefaults) {
  absl::StatusOr<config::Experiment> e = ParseExperiment(kMinimal, "configs/my-run.pbtxt");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->name(), "my-run");
  EXPECT_EQ(e->model_path(), kDefaultModelPath);
  EXPECT_EQ(e->output_dir(), "results/my-run");
  EXPECT_EQ(e->chunked().n_ctx(), 512);
  EXPECT_EQ(e->device(), "cpu");
  EXPECT_EQ(e->min_scored_tokens(), kDefaultMinScoredTokens);
  EXPECT_FALSE(e->allow_beyond_trained_context());
  EXPECT_EQ(e->weights_dtype(), config::FP32);
}

TEST(ConfigLoaderTest, WeightsDtypeDefaultsToBf16OnCudaAndKeepsAnExplicitOne) {
  absl::StatusOr<config::Experiment> cuda = ParseExperiment(
      R"pb(text_path: "t" device: "cuda:1" chunked {} caches { name: "a" })pb", "c.pbtxt");
  ASSERT_THAT(cuda, IsOk());
  EXPECT_EQ(cuda->weights_dtype(), config::BF16);
  absl::StatusOr<config::Experiment> fp16 = ParseExperiment(
      R"pb(text_path: "t" weights_dtype: FP16 chunked {} caches { name: "a" })pb", "h.pbtxt");
  ASSERT_THAT(fp16, IsOk());
  EXPECT_EQ(fp16->weights_dtype(), config::FP16);
}

TEST(ConfigLoaderTest, ProtocolDefaults) {
  absl::StatusOr<config::Experiment> streaming = ParseExperiment(
      R"pb(text_path: "t" streaming {} caches { name: "a" })pb", "s.pbtxt");
  ASSERT_THAT(streaming, IsOk());
  EXPECT_EQ(streaming->streaming().bucket_size(), 256);
  absl::StatusOr<config::Experiment> prefill = ParseExperiment(
      R"pb(text_path: "t" prefill_compress { context_tokens: 8 scored_tokens: 2 } caches { name: "a" })pb",
      "p.pbtxt");
  ASSERT_THAT(prefill, IsOk());
  EXPECT_EQ(prefill->prefill_compress().max_windows(), 1);
  absl::StatusOr<config::Experiment> once = ParseExperiment(
      R"pb(text_path: "t" compress_once { context_tokens: 8 scored_tokens: 2 } caches { name: "a" })pb",
      "o.pbtxt");
  ASSERT_THAT(once, IsOk());
  EXPECT_EQ(once->compress_once().max_windows(), 1);
}

TEST(ConfigLoaderTest, CompressOnceErrorsNameItsFields) {
  EXPECT_THAT(
      ParseExperiment(R"pb(text_path: "t" compress_once { context_tokens: 8 } caches { name: "a" })pb",
                      "o.pbtxt"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("compress_once.context_tokens and scored_tokens must be >= 1")));
}

TEST(ConfigLoaderTest, RecordEvictionsOnlyWhereEvictionsAreScored) {
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" compress_once { context_tokens: 8 scored_tokens: 4 }
                                   record_evictions: true caches { name: "a" })pb",
                              "o.pbtxt"),
              IsOk());
  for (const char* protocol : {"chunked {}", "retrieval { context_tokens: [1024] }"}) {
    EXPECT_THAT(ParseExperiment(absl::StrCat(R"pb(text_path: "t" record_evictions: true )pb",
                                             protocol, R"pb( caches { name: "a" })pb"),
                                "o.pbtxt"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("o.pbtxt"), HasSubstr("record_evictions"))))
        << protocol;
  }
}

TEST(ConfigLoaderTest, RetrievalDefaultsAndErrorsNameTheirFields) {
  absl::StatusOr<config::Experiment> e = ParseExperiment(
      R"pb(text_path: "t" retrieval { context_tokens: [1024] } caches { name: "a" })pb",
      "r.pbtxt");
  ASSERT_THAT(e, IsOk());
  EXPECT_THAT(e->retrieval().depths(), ::testing::ElementsAre(0.0, 0.25, 0.5, 0.75, 1.0));
  EXPECT_EQ(e->retrieval().trials(), 5);
  EXPECT_EQ(e->retrieval().max_new_tokens(), 8);
  EXPECT_EQ(e->retrieval().eviction(), config::RetrievalProtocol::ONCE_AFTER_PROMPT);
  const auto error = [](const std::string& retrieval, const std::string& caches) {
    return ParseExperiment(
        absl::StrCat(R"pb(text_path: "t" retrieval {)pb", retrieval, "} ", caches), "r.pbtxt");
  };
  const std::string dense = R"pb(caches { name: "a" })pb";
  EXPECT_THAT(error("", dense), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("retrieval.context_tokens needs at least one")));
  EXPECT_THAT(error("context_tokens: [32]", dense),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retrieval.context_tokens[0] must be >= 64, got 32")));
  EXPECT_THAT(error("context_tokens: [128] depths: [0.5, 2]", dense),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retrieval.depths[1] must be in [0, 1], got 2")));
  EXPECT_THAT(error("context_tokens: [128] trials: 0", dense),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("retrieval.trials")));
  EXPECT_THAT(
      error("context_tokens: [128]",
            R"pb(caches { name: "w" eviction { policy: "window" budget { fraction: 0.5 } } })pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("caches[0] 'w': retrieval needs eviction.budget in tokens")));
}

TEST(ConfigLoaderTest, SyntaxErrorNamesLineAndField) {
  const std::string text = "text_path: \"t\"\nchunked {}\ncaches { nmae: \"x\" }\n";
  EXPECT_THAT(ParseExperiment(text, "bad.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad.pbtxt:3:"), HasSubstr("nmae"))));
}

TEST(ConfigLoaderTest, ValueErrorsNameTheField) {
  EXPECT_THAT(ParseExperiment(R"pb(chunked {} caches { name: "a" })pb", "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text_path is required")));
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" caches { name: "a" })pb", "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a protocol is required")));
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" chunked { n_ctx: 2 } caches { name: "a" })pb",
                              "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chunked.n_ctx must be >= 4")));
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" chunked {})pb", "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("caches")));
  EXPECT_THAT(ParseExperiment(
                  R"pb(text_path: "t" chunked {} caches { name: "a" } caches { name: "a" })pb",
                  "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("caches[1].name 'a' is used twice")));
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" chunked {} caches { name: "a b" })pb", "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("caches[0].name 'a b'")));
  EXPECT_THAT(ParseExperiment(
                  R"pb(text_path: "t" streaming { bucket_size: -1 } caches { name: "a" })pb",
                  "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("streaming.bucket_size")));
}

TEST(ConfigLoaderTest, EvictionUnderChunkedIsAnErrorNamingTheField) {
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" chunked {}
                                   caches { name: "dense" }
                                   caches { name: "w" eviction { policy: "window" budget { tokens: 8 } } })pb",
                              "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("x.pbtxt"), HasSubstr("caches[1].eviction"),
                             HasSubstr("no effect under chunked"))));
  // A sweep that generates evicting caches is caught the same way.
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" chunked {}
                                   sweeps { base { eviction { budget { tokens: 8 } } }
                                            policies: ["window"] })pb",
                              "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no effect under chunked")));
}

TEST(ConfigLoaderTest, MinScoredTokensIsValidated) {
  absl::StatusOr<config::Experiment> zero = ParseExperiment(
      R"pb(text_path: "t" chunked {} caches { name: "a" } min_scored_tokens: 0)pb", "x.pbtxt");
  ASSERT_THAT(zero, IsOk());
  EXPECT_EQ(zero->min_scored_tokens(), 0);
  EXPECT_THAT(ParseExperiment(
                  R"pb(text_path: "t" chunked {} caches { name: "a" } min_scored_tokens: -1)pb",
                  "x.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_scored_tokens must be >= 0")));
}

TEST(ConfigLoaderTest, MissingFileNamesIt) {
  EXPECT_THAT(LoadExperiment("/nonexistent/exp.pbtxt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/exp.pbtxt")));
}

}  // namespace
}  // namespace kvlab::experiments

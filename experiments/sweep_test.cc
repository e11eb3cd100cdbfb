#include "experiments/sweep.h"

#include "base/status_matchers.h"
#include "experiments/config_loader.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "quant/integer.pb.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::Sweep Parse(const std::string& text) {
  config::Sweep sweep;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &sweep));
  return sweep;
}

std::vector<std::string> Names(const std::vector<config::CacheConfig>& caches) {
  std::vector<std::string> names;
  for (const auto& c : caches) names.push_back(c.name());
  return names;
}

TEST(SweepTest, CartesianProductWithReadableNames) {
  ASSERT_OK_AND_ASSIGN(const auto caches, ExpandSweep(Parse(R"pb(
    base { eviction { budget { tokens: 64 } } }
    policies: ["window", "h2o"]
    budgets: [128, 256]
  )pb")));
  EXPECT_THAT(Names(caches), ElementsAre("window-b128", "window-b256", "h2o-b128", "h2o-b256"));
  EXPECT_EQ(caches[3].eviction().policy(), "h2o");
  EXPECT_EQ(caches[3].eviction().budget().tokens(), 256);
}

TEST(SweepTest, AnUnnamedSweepOfOnePolicyKeepsItInTheNames) {
  ASSERT_OK_AND_ASSIGN(const auto unnamed, ExpandSweep(Parse(R"pb(
    base { eviction { budget { tokens: 64 } } }
    policies: ["cake"]
    budgets: [128, 256]
  )pb")));
  EXPECT_THAT(Names(unnamed), ElementsAre("cake-b128", "cake-b256"));
  ASSERT_OK_AND_ASSIGN(const auto named, ExpandSweep(Parse(R"pb(
    name: "pyramidkv"
    base { eviction { budget { tokens: 64 } } }
    policies: ["snapkv"]
    budgets: [128, 256]
  )pb")));
  EXPECT_THAT(Names(named), ElementsAre("pyramidkv-b128", "pyramidkv-b256"));
}

TEST(SweepTest, QuantizerAxesEditIntegerOptionsAndKeepTheRest) {
  ASSERT_OK_AND_ASSIGN(const auto caches, ExpandSweep(Parse(R"pb(
    name: "kivi"
    base {
      keys { quantized { quantizer: "int4" residual_tokens: 32
        options { [type.googleapis.com/kvlab.quant.IntegerQuantizerOptions] { axis: PER_CHANNEL } } } }
      values { quantized { quantizer: "int4" } }
    }
    bits: [8, 4]
    group_sizes: [32]
    residual_tokens: [32, 128]
  )pb")));
  EXPECT_THAT(Names(caches), ElementsAre("kivi-int8-r32", "kivi-int8-r128", "kivi-int4-r32",
                                         "kivi-int4-r128"));
  quant::IntegerQuantizerOptions keys;
  ASSERT_TRUE(caches[1].keys().quantized().options().UnpackTo(&keys));
  EXPECT_EQ(caches[1].keys().quantized().quantizer(), "int8");
  EXPECT_EQ(keys.axis(), quant::IntegerQuantizerOptions::PER_CHANNEL);
  EXPECT_EQ(keys.group_size(), 32);
  EXPECT_EQ(caches[1].values().quantized().residual_tokens(), 128);
}

TEST(SweepTest, ThirtyTwoBitsMeansDenseAndNoneMeansNoEviction) {
  ASSERT_OK_AND_ASSIGN(const auto caches, ExpandSweep(Parse(R"pb(
    base { eviction { policy: "sink" budget { tokens: 64 } } }
    policies: ["none", "sink"]
    bits: [32, 4]
  )pb")));
  EXPECT_THAT(Names(caches), ElementsAre("none-fp32", "none-int4", "sink-fp32", "sink-int4"));
  EXPECT_FALSE(caches[0].has_eviction());
  EXPECT_FALSE(caches[0].keys().has_quantized());
  EXPECT_EQ(caches[3].values().quantized().quantizer(), "int4");
}

TEST(SweepTest, BadAxesNameTheField) {
  EXPECT_THAT(ExpandSweep(Parse("budgets: [0]")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sweeps.budgets")));
  EXPECT_THAT(ExpandSweep(Parse("bits: [3]")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sweeps.bits")));
  EXPECT_THAT(ExpandSweep(Parse("")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one axis")));
}

TEST(SweepTest, LoaderExpandsSweepsAndChecksNames) {
  absl::StatusOr<config::Experiment> e = ParseExperiment(R"pb(
    text_path: "t" streaming {}
    caches { name: "dense" }
    sweeps { base { eviction { budget { tokens: 8 } } } policies: ["window", "sink"] }
    baseline: "dense"
  )pb", "s.pbtxt");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->caches_size(), 3);
  EXPECT_EQ(e->caches(2).name(), "sink");
  EXPECT_THAT(ParseExperiment(R"pb(
    text_path: "t" streaming {}
    caches { name: "window" }
    sweeps { base { eviction { budget { tokens: 8 } } } policies: ["window", "sink"] }
  )pb", "s.pbtxt"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'window' is used twice")));
  EXPECT_THAT(ParseExperiment(R"pb(text_path: "t" streaming {} caches { name: "a" } baseline: "b")pb",
                              "s.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("baseline 'b'")));
}

TEST(SweepTest, RefusesAnOversizedProduct) {
  config::Sweep sweep;
  for (int i = 0; i < 200; ++i) {
    sweep.add_budgets(i + 1);
    sweep.add_group_sizes(i);
  }
  EXPECT_THAT(ExpandSweep(sweep), StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("more than 10000 caches")));
}

}  // namespace
}  // namespace kvlab::experiments

// Every committed experiment config parses, validates, and builds each of its caches
// for the default model's attention shape, so a typo in a policy name or an option
// fails here rather than an hour into a run.
#include <filesystem>

#include "base/status_matchers.h"
#include "core/cache_builder.h"
#include "experiments/config_loader.h"
#include "experiments/protocols/protocol.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

TEST(ConfigsTest, CommittedConfigsBuildEveryCache) {
  // SmolLM2-135M: 30 layers, 9 query heads, 3 KV heads, head dim 64, rope base 1e5.
  ASSERT_OK_AND_ASSIGN(
      const RotaryEmbedding rope,
      RotaryEmbedding::Create(64, 64, 100000.0, RopeStyle::kInterleaved, /*table_positions=*/0));
  CacheContext context{{30, 9, 3, 64}, rope, at::kCPU, /*budget_reference_tokens=*/4096};
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator("experiments/configs")) {
    if (entry.path().extension() != ".pbtxt") continue;
    ++configs;
    absl::StatusOr<config::Experiment> experiment = LoadExperiment(entry.path().string());
    ASSERT_THAT(experiment, IsOk()) << entry.path();
    // When the caches evict is the protocol's to say.
    ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Protocol> protocol, FindProtocol(*experiment));
    context.eviction_schedule = protocol->Schedule(*experiment);
    for (const config::CacheConfig& cache : experiment->caches()) {
      EXPECT_THAT(MakeCacheFactory(cache, context), IsOk())
          << entry.path() << " cache " << cache.name();
    }
  }
  EXPECT_GE(configs, 5);
}

}  // namespace
}  // namespace kvlab::experiments

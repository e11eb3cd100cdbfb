// examples/strided.pbtxt, which the README shows, parses and builds every cache with
// the example plugin linked in.
#include "base/status_matchers.h"
#include "core/cache_builder.h"
#include "experiments/config_loader.h"
#include "gtest/gtest.h"

namespace kvlab::examples {
namespace {

TEST(StridedConfigTest, ExampleConfigBuildsEveryCache) {
  absl::StatusOr<config::Experiment> e = experiments::LoadExperiment("examples/strided.pbtxt");
  ASSERT_THAT(e, IsOk());
  ASSERT_OK_AND_ASSIGN(
      const RotaryEmbedding rope,
      RotaryEmbedding::Create(64, 64, 100000.0, RopeStyle::kInterleaved, /*table_positions=*/0));
  for (const config::CacheConfig& cache : e->caches()) {
    EXPECT_THAT(MakeCacheFactory(cache, {{30, 9, 3, 64}, rope, at::kCPU, 512}), IsOk())
        << cache.name();
  }
}

}  // namespace
}  // namespace kvlab::examples

#include "experiments/eviction_record.h"

#include <cmath>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {
namespace {

eval::LayerEvictionRecord Layer(int64_t evictions, std::vector<double> mass,
                                std::vector<std::vector<int64_t>> kept) {
  eval::LayerEvictionRecord r;
  r.evictions = evictions;
  r.mean_retained_mass = std::move(mass);
  r.kept_positions = std::move(kept);
  return r;
}

TEST(EvictionRecordTest, RetainedMassAveragesHeadsAndTheSequencesThatEvicted) {
  // Two layers, two KV heads; layer 1 evicts only in the second sequence.
  const std::vector<SequenceEvictions> sequences = {
      {Layer(1, {0.9, 0.7}, {{0, 5}, {1, 5}}), Layer(0, {}, {})},
      {Layer(2, {0.5, 0.3}, {{0, 7}, {6, 7}}), Layer(1, {0.2, 0.4}, {{2, 7}, {3, 7}})},
  };
  const std::vector<double> mass = RetainedMassByLayer(sequences);
  ASSERT_EQ(mass.size(), 2u);
  EXPECT_DOUBLE_EQ(mass[0], (0.9 + 0.7 + 0.5 + 0.3) / 4);
  EXPECT_DOUBLE_EQ(mass[1], (0.2 + 0.4) / 2);
  EXPECT_TRUE(RetainedMassByLayer({}).empty());
  EXPECT_TRUE(std::isnan(RetainedMassByLayer({{Layer(0, {}, {})}})[0]));

  const nlohmann::json j = nlohmann::json::parse(EvictionsToJson("h2o-b128", sequences));
  EXPECT_EQ(j["name"], "h2o-b128");
  ASSERT_EQ(j["sequences"].size(), 2u);
  const nlohmann::json& layer = j["sequences"][1]["layers"][1];
  EXPECT_EQ(layer["layer"], 1);
  EXPECT_EQ(layer["evictions"], 1);
  EXPECT_EQ(layer["retained_mass"][1], 0.4);
  EXPECT_EQ(layer["kept_positions"][0], (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(EvictionsFile("out", "h2o-b128"), "out/runs/h2o-b128.evictions.json");
}

}  // namespace
}  // namespace kvlab::experiments

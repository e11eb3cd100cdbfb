#include "experiments/compare.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;

RunRecord MakeRun(const std::string& name, double ppl, double bytes) {
  RunRecord r;
  r.name = name;
  r.result.tokens_scored = 1;
  r.result.nll_sum = std::log(ppl);
  r.result.mean_bytes_per_token = bytes;
  return r;
}

TEST(CompareTest, RowsPerNameWithDeltasAgainstTheFirstSet) {
  const std::string table = CompareTable({{"before", {MakeRun("dense", 20, 46080), MakeRun("int4", 22, 7680)}},
                                          {"after", {MakeRun("int4", 21, 7680), MakeRun("int8", 20.5, 12000)}}});
  EXPECT_THAT(table, HasSubstr("| config | ppl before | KV B/token before | ppl after | KV B/token after | Δ ppl after |"));
  EXPECT_THAT(table, HasSubstr("| int4 | 22.0000 | 7680 | 21.0000 | 7680 | -1.0000 (-4.55%) |"));
  EXPECT_THAT(table, HasSubstr("| dense | 20.0000 | 46080 |  |  |  |"));
  EXPECT_THAT(table, HasSubstr("| int8 |  |  | 20.5000 | 12000 |  |"));
}

TEST(CompareTest, RunsWithPerTokenNllsInBothSetsGetAPairedInterval) {
  ResultSet before{"before", {MakeRun("int4", 22, 7680), MakeRun("int8", 20, 12000)}};
  ResultSet after{"after", {MakeRun("int4", 21, 7680), MakeRun("int8", 20, 12000)}};
  before.token_nlls["int4"] = {2.0f, 2.0f, 2.0f, 2.0f};
  // Differences 0.1 .. 0.4: 100 (exp(0.25 ± 1.96 sqrt(1/240)) - 1) = +13.14% .. +45.72%.
  after.token_nlls["int4"] = {2.1f, 2.2f, 2.3f, 2.4f};
  // int8 kept its NLLs in one set only: no interval.
  after.token_nlls["int8"] = {2.0f, 2.0f, 2.0f, 2.0f};
  const std::string table = CompareTable({before, after});
  EXPECT_THAT(table, HasSubstr("| Δ ppl after | paired 95% CI after |"));
  EXPECT_THAT(table, HasSubstr("| -1.0000 (-4.55%) | +13.14% .. +45.72% |"));
  EXPECT_THAT(table, HasSubstr("| +0.0000 (+0.00%) |  |"));
}

}  // namespace
}  // namespace kvlab::experiments

#include "experiments/results.h"

#include "base/files.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunRecord Record(const std::string& name, double nll_sum, int64_t bytes_per_token,
                 const std::string& keys = "fp32") {
  RunRecord r;
  r.name = name;
  r.protocol = "streaming";
  r.keys = keys;
  r.values = "fp32";
  r.eviction = "none";
  r.position_mode = "original";
  r.fingerprint = "f00d";
  r.result.nll_sum = nll_sum;
  r.result.tokens_scored = 100;
  r.result.tokens_processed = 100;
  r.result.seconds = 4.0;
  r.result.mean_bytes_per_token = static_cast<double>(bytes_per_token);
  r.result.peak_held_bytes = 100 * bytes_per_token;
  r.result.bucket_nll_sum = {100.0, 200.0};
  r.result.bucket_count = {50, 50};
  r.elements_per_token = 2 * 30 * 3 * 64;
  r.bucket_size = 50;
  r.weights_dtype = "bf16";
  r.weight_bytes = 270 << 20;
  return r;
}

TEST(ResultsTest, JsonHasTheRequiredKeysAndReadsBack) {
  const std::vector<RunRecord> records = {Record("dense", 300.0, 46080),
                                          Record("half", 310.0, 23040, "fp16")};
  const std::string json = ToJson(records);
  const nlohmann::json parsed = nlohmann::json::parse(json);
  ASSERT_EQ(parsed.size(), 2u);
  for (const char* key : {"name", "perplexity", "tokens_scored", "kv_bytes_per_token",
                          "peak_kv_bytes", "tokens_per_second", "weights_dtype", "weight_bytes"}) {
    EXPECT_TRUE(parsed[0].contains(key)) << key;
  }
  EXPECT_NEAR(parsed[0]["perplexity"].get<double>(), std::exp(3.0), 1e-9);
  EXPECT_EQ(parsed[0]["tokens_per_second"].get<double>(), 25.0);
  EXPECT_EQ(parsed[0]["bits_per_element"].get<double>(), 32.0);
  EXPECT_EQ(parsed[1]["compression_vs_fp16"].get<double>(), 1.0);
  EXPECT_EQ(parsed[0]["nll_by_position"][1]["mean_nll"].get<double>(), 4.0);

  absl::StatusOr<std::vector<RunRecord>> back = ParseResultsJson(json, "r.json");
  ASSERT_THAT(back, IsOk());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].keys, "fp16");
  EXPECT_EQ((*back)[1].result.nll_sum, 310.0);
  EXPECT_EQ((*back)[0].result.bucket_nll_sum[1], 200.0);
  EXPECT_EQ((*back)[0].fingerprint, "f00d");
  EXPECT_EQ((*back)[0].weights_dtype, "bf16");
  EXPECT_EQ((*back)[0].weight_bytes, 270 << 20);
  EXPECT_EQ(ToJson(*back), json);
}

TEST(ResultsTest, BaselineIsTheFirstDenseRunUnlessNamed) {
  const std::vector<RunRecord> records = {Record("half", 310.0, 23040, "fp16"),
                                          Record("dense", 300.0, 46080)};
  EXPECT_EQ(FindBaseline(records, ""), 1);
  EXPECT_EQ(FindBaseline(records, "half"), 0);
  EXPECT_EQ(FindBaseline({Record("q", 1, 1, "int4")}, ""), -1);
}

TEST(ResultsTest, TableAndCsvShowDeltasAgainstTheBaseline) {
  const std::vector<RunRecord> records = {Record("dense", 300.0, 46080),
                                          Record("half", 310.0, 23040, "fp16")};
  const std::string table = FormatTable(records, 0);
  EXPECT_THAT(table, HasSubstr("| config           | perplexity |"));
  EXPECT_THAT(table, HasSubstr("dense (baseline)"));
  // exp(3.1) - exp(3.0) = 2.1124; +10.52%.
  EXPECT_THAT(table, HasSubstr("+2.1124"));
  EXPECT_THAT(table, HasSubstr("+10.52%"));
  EXPECT_THAT(table, HasSubstr("4.39 MiB"));
  // An fp16 cache: 16 bits per element, 1x against fp16 and 2x against fp32.
  EXPECT_THAT(table, HasSubstr("| × vs fp16 | × vs fp32 |"));
  EXPECT_THAT(table, HasSubstr("|     16.00 |      1.00 |      2.00 |"));
  const std::string csv = ToCsv(records, 0);
  EXPECT_THAT(csv, HasSubstr("name,perplexity,mean_nll,tokens_scored,kv_bytes_per_token,peak_kv_bytes,tokens_per_second"));
  EXPECT_THAT(csv, HasSubstr("delta_perplexity_percent"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
}

TEST(ResultsTest, StandardErrorAndComparisonWithDenseAppearWhenMeasured) {
  RunRecord dense = Record("dense", 300.0, 46080);
  RunRecord half = Record("half", 310.0, 23040, "fp16");
  // Without squared sums (records from before they were kept) the ± cell stays empty.
  EXPECT_THAT(FormatTable({dense, half}, 0), Not(HasSubstr("KLD")));
  for (RunRecord* r : {&dense, &half}) {
    r->result.nll_squared_sum = 1000.0;  // 100 tokens: variance 10 - 3.0^2 (or 3.1^2).
    r->result.has_reference = true;
  }
  half.result.kld_sum = 0.5;
  half.result.kld_squared_sum = 0.0035;
  half.result.kld_p99 = 0.02;
  half.result.top1_agreements = 97;
  half.result.nll_difference_sum = 10.0;
  half.result.nll_difference_squared_sum = 2.0;
  dense.result.top1_agreements = 100;
  const std::string table = FormatTable({dense, half}, 0);
  EXPECT_THAT(table, HasSubstr("KLD ± 95% CI | KLD p99 |"));
  EXPECT_THAT(table, HasSubstr("top-1 (95% CI) |"));
  // KL mean 0.005, sample variance (0.0035 - 100 x 0.005²) / 99: ± 1.96 x 0.000318.
  EXPECT_THAT(table, HasSubstr("0.00500 ± 0.00062"));
  // Wilson's 95% interval for 97 of 100, and for 100 of 100.
  EXPECT_THAT(table, HasSubstr("97.00% (91.55..98.97)"));
  EXPECT_THAT(table, HasSubstr("100.00% (96.30..100.00)"));
  // Mean difference 0.1, sample variance (0.02 - 0.01) * 100 / 99: 95% interval of
  // exp(0.1 ± 1.96 * 0.01005) - 1 = +8.36% .. +12.72%.
  EXPECT_THAT(table, HasSubstr("+8.36% .. +12.72%"));
  // exp(3.0) * sqrt((10 - 9) * 100 / 99 / 100) = 2.0187.
  EXPECT_THAT(table, HasSubstr("2.0187"));
  absl::StatusOr<std::vector<RunRecord>> back = ParseResultsJson(ToJson({dense, half}), "r.json");
  ASSERT_THAT(back, IsOk());
  EXPECT_TRUE((*back)[1].result.has_reference);
  EXPECT_EQ((*back)[1].result.top1_agreements, 97);
  EXPECT_EQ((*back)[1].result.nll_squared_sum, 1000.0);
  EXPECT_EQ(ToJson(*back), ToJson({dense, half}));
}

TEST(ResultsTest, RetrievalCellsReadBackAndMakeTheirOwnTables) {
  RunRecord r = Record("snapkv-256", 0.0, 100);
  r.protocol = "retrieval";
  r.result.tokens_scored = 0;
  r.result.bucket_count.clear();
  r.result.bucket_nll_sum.clear();
  r.retrieval = {{1024, 0.0, 2, 2, 2040, {"12345", "54321"}},
                 {1024, 1.0, 2, 1, 2041, {"11111", ""}},
                 {2048, 0.0, 2, 0, 4090, {"1", "2"}},
                 {2048, 1.0, 2, 1, 4093, {"22222", "3"}}};
  EXPECT_DOUBLE_EQ(r.retrieval_accuracy(), 0.5);
  ASSERT_OK_AND_ASSIGN(const RunRecord back, ParseRunJson(RunToJson(r), "run.json"));
  ASSERT_EQ(back.retrieval.size(), 4u);
  EXPECT_EQ(back.retrieval[1].answers, (std::vector<std::string>{"11111", ""}));
  EXPECT_EQ(back.retrieval[3].context_tokens, 2048);
  EXPECT_EQ(back.retrieval[3].correct, 1);
  EXPECT_DOUBLE_EQ(back.retrieval_accuracy(), 0.5);
  const std::string table = FormatTable({r}, -1);
  EXPECT_THAT(table, HasSubstr("accuracy | 1024 tokens | 2048 tokens |"));
  // All cells, then each length.
  EXPECT_THAT(table, HasSubstr("| 50% (4/8) |   75% (3/4) |   25% (1/4) |"));
  EXPECT_THAT(table, HasSubstr("By depth of the fact"));
  EXPECT_THAT(table, HasSubstr("| 50% (2/4) | 50% (2/4) |"));  // Depth 0 and depth 1.
  EXPECT_THAT(table, Not(HasSubstr("perplexity")));
  EXPECT_THAT(ToCsv({r}, -1), HasSubstr("retrieval_accuracy"));
}

TEST(ResultsTest, ProtocolDetailsReadBackAndRulerMakesItsOwnTable) {
  RunRecord r = Record("dense", 0.0, 100);
  r.protocol = "ruler";
  r.result.tokens_scored = 0;
  r.details = nlohmann::ordered_json::parse(R"({
    "ruler_scores": [
      {"task": "niah_single_1", "length": 4096, "samples": 100, "score": 1.0,
       "wilson95_low": 0.963, "wilson95_high": 1.0},
      {"task": "vt", "length": 4096, "samples": 100, "score": 0.5,
       "wilson95_low": 0.404, "wilson95_high": 0.596}],
    "ruler_average": [{"length": 4096, "tasks": 2, "score": 0.75}],
    "ruler_records": []})");
  ASSERT_OK_AND_ASSIGN(const RunRecord back, ParseRunJson(RunToJson(r), "run.json"));
  EXPECT_EQ(back.details, r.details);
  const std::string table = FormatTable({r}, -1);
  EXPECT_THAT(table, HasSubstr("| config | length | average |       niah_single_1 |"));
  EXPECT_THAT(table, HasSubstr("|   4096 |    75.0 | 100.0 [96.3, 100.0] | 50.0 [40.4, 59.6] |     100 |"));
  EXPECT_THAT(table, Not(HasSubstr("perplexity")));
  // Without details, nothing is written for them.
  EXPECT_FALSE(nlohmann::json::parse(RunToJson(Record("x", 1.0, 1))).contains("details"));
}

TEST(ResultsTest, CsvQuotesFieldsWithCommas) {
  RunRecord quoted = Record("a", 300.0, 46080);
  quoted.keys = "int4 (bits: 4, axis: \"x\")";
  EXPECT_THAT(ToCsv({quoted}, -1), HasSubstr("\"int4 (bits: 4, axis: \"\"x\"\")\""));
}

TEST(ResultsTest, WritesJsonCsvAndMarkdown) {
  const std::string dir = ::testing::TempDir() + "/results_out";
  ASSERT_THAT(WriteResults(dir, {Record("dense", 300.0, 46080)}, 0, "demo"), IsOk());
  EXPECT_THAT(ReadFileToString(dir + "/results.json"), IsOk());
  EXPECT_THAT(ReadFileToString(dir + "/results.csv"), IsOk());
  EXPECT_THAT(ReadFileToString(dir + "/results.md"), IsOkAndHolds(HasSubstr("# demo")));
}

TEST(ResultsTest, MalformedJsonNamesTheSource) {
  EXPECT_THAT(ParseResultsJson("{not json", "bad.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.json")));
  EXPECT_THAT(ParseResultsJson("[{\"name\": 1}]", "odd.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd.json")));
}

}  // namespace
}  // namespace kvlab::experiments

// Runs whole experiments on a tiny random-weight model: results land on disk, an
// interrupted or repeated run reuses what finished, and a changed cache, model or text
// is run again rather than mixed with old results.
#include "experiments/experiment_runner.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/tiny_llama.h"
#include "experiments/config_loader.h"
#include "experiments/output_lock.h"
#include "experiments/run_settings.h"
#include "experiments/token_nlls.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

class ExperimentRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_THAT(model::WriteTinyLlama(dir_ + "/tiny.gguf"), IsOk());
    std::ofstream(dir_ + "/text.txt") << "the thin ant ran in the tan tent; then the ant ate.\n"
                                      << "an ant in a hat, the end. the theme is thin.\n";
  }

  // The tiny text scores 39 predictions: fewer than the default minimum.
  config::Experiment Load(const std::string& caches,
                          const std::string& protocol =
                              "streaming { max_tokens: 40 bucket_size: 10 } min_scored_tokens: 16") {
    absl::StatusOr<config::Experiment> e = ParseExperiment(
        absl::StrFormat(R"pb(
          model_path: "%s/tiny.gguf" text_path: "%s/text.txt" output_dir: "%s/out"
          %s
          %s)pb",
                        dir_, dir_, dir_, protocol, caches),
        "runner.pbtxt");
    return ValueOrAddFailure(std::move(e));
  }

  std::string dir_;
};

constexpr char kTwoCaches[] = R"pb(
  caches { name: "dense" }
  caches { name: "window-8" eviction { policy: "window" budget { tokens: 8 } } }
)pb";

TEST_F(ExperimentRunnerTest, WritesEveryRunAndTheTables) {
  absl::StatusOr<std::vector<RunRecord>> records = RunExperiment(Load(kTwoCaches));
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].result.tokens_scored, 39);
  for (const char* file : {"results.json", "results.csv", "results.md", "runs/dense.json",
                           "runs/window-8.json", "perplexity_vs_memory.svg", "nll_by_position.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/out/" + file)) << file;
  }
  EXPECT_THAT(ReadFileToString(dir_ + "/out/results.md"),
              IsOkAndHolds(::testing::HasSubstr("dense (baseline)")));
}

TEST_F(ExperimentRunnerTest, KeptPerTokenNllsGiveEveryRunAPairedIntervalAgainstTheBaseline) {
  config::Experiment e = Load(kTwoCaches);
  e.set_keep_token_nlls(true);
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> records, RunExperiment(e));
  for (const RunRecord& r : records) {
    ASSERT_OK_AND_ASSIGN(const std::vector<float> nlls,
                         ReadTokenNlls(TokenNllsFile(dir_ + "/out", r.name)));
    ASSERT_EQ(static_cast<int64_t>(nlls.size()), r.result.tokens_scored) << r.name;
    double sum = 0.0;
    for (const float nll : nlls) sum += nll;
    EXPECT_NEAR(sum, r.result.nll_sum, 1e-4 * std::abs(r.result.nll_sum)) << r.name;
  }
  ASSERT_OK_AND_ASSIGN(const std::string table, ReadFileToString(dir_ + "/out/results.md"));
  EXPECT_THAT(table, ::testing::HasSubstr("Δ % vs baseline, paired 95% CI"));
  // And in results.json, for the runs beside the baseline.
  ASSERT_OK_AND_ASSIGN(const std::string json, ReadFileToString(dir_ + "/out/results.json"));
  EXPECT_THAT(json, ::testing::HasSubstr("paired_change_percent_ci95_low"));
}

// The tiny model written as a Hugging Face directory (sharded safetensors, config.json,
// tokenizer.json): the same tokens, the same numbers, and its own fingerprint.
TEST_F(ExperimentRunnerTest, AHuggingFaceDirectoryGivesTheGgufsResults) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> gguf, RunExperiment(Load(kTwoCaches)));
  ASSERT_THAT(model::ConvertGgufToHf(dir_ + "/tiny.gguf", dir_ + "/tiny-hf", /*shard_bytes=*/20000),
              IsOk());
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/tiny-hf/model.safetensors.index.json"));
  config::Experiment e = Load(kTwoCaches);
  e.set_model_path(dir_ + "/tiny-hf");
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> hf, RunExperiment(e));
  ASSERT_EQ(hf.size(), gguf.size());
  for (size_t i = 0; i < hf.size(); ++i) {
    EXPECT_EQ(hf[i].result.tokens_scored, gguf[i].result.tokens_scored);
    EXPECT_DOUBLE_EQ(hf[i].result.nll_sum, gguf[i].result.nll_sum);
    EXPECT_EQ(hf[i].result.peak_held_bytes, gguf[i].result.peak_held_bytes);
    // Run again, not reused: the model's files differ.
    EXPECT_NE(hf[i].result.seconds, gguf[i].result.seconds);
  }
}

TEST_F(ExperimentRunnerTest, ResumeReusesFinishedRunsAndRerunsChangedOnes) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> first, RunExperiment(Load(kTwoCaches)));
  // The same config again: nothing runs, the records are the stored ones.
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> again, RunExperiment(Load(kTwoCaches)));
  EXPECT_EQ(again[0].result.seconds, first[0].result.seconds);
  EXPECT_EQ(again[1].result.seconds, first[1].result.seconds);
  // A changed budget re-runs that cache only.
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> changed, RunExperiment(Load(R"pb(
    caches { name: "dense" }
    caches { name: "window-8" eviction { policy: "window" budget { tokens: 6 } } }
  )pb")));
  EXPECT_EQ(changed[0].result.seconds, first[0].result.seconds);
  EXPECT_NE(changed[1].fingerprint, first[1].fingerprint);
  EXPECT_LT(changed[1].result.peak_held_bytes, first[1].result.peak_held_bytes);
  // A changed text re-runs everything.
  std::ofstream(dir_ + "/text.txt", std::ios::app) << "more text: the ant is in the hat.\n";
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> new_text, RunExperiment(Load(R"pb(
    caches { name: "dense" }
    caches { name: "window-8" eviction { policy: "window" budget { tokens: 6 } } }
  )pb")));
  EXPECT_NE(new_text[0].fingerprint, first[0].fingerprint);
  EXPECT_NE(new_text[0].result.seconds, first[0].result.seconds);
}

// Runs made in a lockstep pair are not taken by a config that runs each cache alone (a
// batch sums in another order), nor by one with other threads.
TEST_F(ExperimentRunnerTest, ABatchTwoRunIsNotReusedByABatchOneConfig) {
  config::Experiment pairs = Load(kTwoCaches);
  pairs.set_batch_caches(2);
  pairs.set_threads(1);
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> paired, RunExperiment(pairs));
  config::Experiment alone = pairs;
  alone.set_batch_caches(1);
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> single, RunExperiment(alone));
  ASSERT_EQ(single.size(), 2u);
  for (size_t i = 0; i < single.size(); ++i) {
    EXPECT_NE(single[i].fingerprint, paired[i].fingerprint) << i;
    EXPECT_NE(single[i].result.seconds, paired[i].result.seconds) << i;  // Run again.
  }
  // The batch-1 config again: now its own runs are reused.
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> again, RunExperiment(alone));
  EXPECT_EQ(again[1].result.seconds, single[1].result.seconds);
  if (MachineThreads() > 1) {
    alone.set_threads(2);
    ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> two_threads, RunExperiment(alone));
    EXPECT_NE(two_threads[1].fingerprint, single[1].fingerprint);
  }
}

// The tiny model cannot find a pass key; what is checked is that every prompt reaches
// every cache and the records carry the cells, on disk and resumed.
TEST_F(ExperimentRunnerTest, RecordedEvictionsLandBesideTheRunsAndChangeNoNumber) {
  const std::string protocol =
      "streaming { max_tokens: 40 bucket_size: 10 } min_scored_tokens: 16";
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> plain,
                       RunExperiment(Load(kTwoCaches, protocol)));
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> recorded,
                       RunExperiment(Load(kTwoCaches, protocol + " record_evictions: true")));
  // A different fingerprint: the recording runs ran again, to the same numbers.
  EXPECT_NE(recorded[1].fingerprint, plain[1].fingerprint);
  EXPECT_EQ(recorded[1].result.nll_sum, plain[1].result.nll_sum);
  EXPECT_TRUE(recorded[0].retained_mass_by_layer.empty());  // dense evicts nothing
  // The tiny model's 2 layers, each evicting from the 9th token of the one stream on.
  ASSERT_EQ(recorded[1].retained_mass_by_layer.size(), 2u);
  for (double mass : recorded[1].retained_mass_by_layer) {
    EXPECT_GT(mass, 0.0);
    EXPECT_LE(mass, 1.0 + 1e-6);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/runs/dense.evictions.json"));
  ASSERT_OK_AND_ASSIGN(const std::string evictions,
                       ReadFileToString(dir_ + "/out/runs/window-8.evictions.json"));
  EXPECT_THAT(evictions, ::testing::HasSubstr("\"evictions\":31"));  // Tokens 9..39.
  // The window kept the newest 8 of positions 0..38 (the last token predicts nothing).
  EXPECT_THAT(evictions, ::testing::HasSubstr("[31,32,33,34,35,36,37,38]"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/out/retained_mass_by_layer.svg"));
  EXPECT_THAT(ReadFileToString(dir_ + "/out/results.json"),
              IsOkAndHolds(::testing::HasSubstr("retained_mass_by_layer")));
}

TEST_F(ExperimentRunnerTest, RetrievalRecordsEveryCellAndResumes) {
  const std::string protocol = R"pb(
    retrieval { context_tokens: [400, 600] depths: [0, 1] trials: 2 max_new_tokens: 3 })pb";
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> records,
                       RunExperiment(Load(kTwoCaches, protocol)));
  ASSERT_EQ(records.size(), 2u);
  for (const RunRecord& r : records) {
    EXPECT_EQ(r.protocol, "retrieval");
    ASSERT_EQ(r.retrieval.size(), 4u);
    EXPECT_EQ(r.retrieval[3].context_tokens, 600);
    EXPECT_EQ(r.retrieval[3].depth, 1.0);
    EXPECT_EQ(r.retrieval[3].trials, 2);
    EXPECT_EQ(r.retrieval[3].answers.size(), 2u);
    EXPECT_GT(r.result.peak_held_bytes, 0);
    EXPECT_EQ(r.result.tokens_scored, 0);
  }
  // The window cache held less than the dense one.
  EXPECT_LT(records[1].result.peak_held_bytes, records[0].result.peak_held_bytes);
  EXPECT_THAT(ReadFileToString(dir_ + "/out/results.md"),
              IsOkAndHolds(::testing::HasSubstr("By depth of the fact")));
  ASSERT_OK_AND_ASSIGN(const std::vector<RunRecord> again,
                       RunExperiment(Load(kTwoCaches, protocol)));
  EXPECT_EQ(again[1].result.seconds, records[1].result.seconds);
  EXPECT_EQ(again[1].retrieval[2].answers, records[1].retrieval[2].answers);
}

TEST_F(ExperimentRunnerTest, BadModelPathNamesIt) {
  config::Experiment e = Load(kTwoCaches);
  e.set_model_path(dir_ + "/missing.gguf");
  EXPECT_THAT(RunExperiment(e), StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("missing.gguf")));
}

TEST_F(ExperimentRunnerTest, TooFewScoredTokensIsAnErrorBeforeRunning) {
  EXPECT_THAT(RunExperiment(Load(kTwoCaches, "streaming { max_tokens: 40 }")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(::testing::HasSubstr("scores only 39 predictions"),
                             ::testing::HasSubstr("min_scored_tokens = 64"))));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/runs"));
  // An empty text scores nothing, whatever the minimum.
  std::ofstream(dir_ + "/text.txt", std::ios::trunc) << "";
  EXPECT_THAT(RunExperiment(Load(kTwoCaches, "streaming {} min_scored_tokens: 0")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("(0 tokens)")));
}

TEST_F(ExperimentRunnerTest, ContextBeyondTrainingIsAnErrorUnlessAllowed) {
  // The tiny model says it was trained on 4096 tokens.
  EXPECT_THAT(RunExperiment(Load(R"pb(caches { name: "dense" })pb", "chunked { n_ctx: 5000 }")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(::testing::HasSubstr("caches[0] 'dense' would see 5000 positions"),
                             ::testing::HasSubstr("beyond the 4096"),
                             ::testing::HasSubstr("chunked.n_ctx"),
                             ::testing::HasSubstr("allow_beyond_trained_context"))));
  // Allowed, the run goes on (and stops at the next check: the text is far too short).
  EXPECT_THAT(RunExperiment(Load(R"pb(caches { name: "dense" })pb",
                                 "chunked { n_ctx: 5000 } allow_beyond_trained_context: true")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("scores only 0 predictions")));
}

TEST_F(ExperimentRunnerTest, SecondRunIntoTheSameDirectoryIsRefused) {
  absl::StatusOr<OutputLock> other = OutputLock::Exclusive(dir_ + "/out");
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(RunExperiment(Load(kTwoCaches)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("output directory " + dir_ + "/out is in use")));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/runs"));
}

}  // namespace
}  // namespace kvlab::experiments

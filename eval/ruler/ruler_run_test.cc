// The decode loop on the default model (SmolLM2-135M-Instruct): records that audit
// each sample, a shared prefill that gives what a prefill per cache gives, and resume.
#include "eval/ruler/ruler_run.h"

#include <ATen/ATen.h>

#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/evicting_kv_cache.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/load_model.h"
#include "eval/retrieval/chat_format.h"
#include "eval/ruler/resources.h"
#include "eval/testing/default_model.h"
#include "eval/testing/keep_most_attended.h"
#include "eval/tokenizer/gguf_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::ruler {
namespace {

using ::testing::HasSubstr;


class RulerRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = gguf::GgufFile::Open(testing::kDefaultModelPath);
    ASSERT_THAT(file, IsOk());
    file_ = file->release();
    auto tokenizer = tokenizer::TokenizerFromGguf(*file_);
    ASSERT_THAT(tokenizer, IsOk());
    tokenizer_ = tokenizer->release();
    auto model = model::LoadModel(*file_, {});
    ASSERT_THAT(model, IsOk());
    model_ = model->release();
    auto chat_template = file_->GetString("tokenizer.chat_template");
    ASSERT_THAT(chat_template, IsOk());
    RulerResources resources;
    for (int i = 0; i < 2000; ++i) {
      resources.essay_words.push_back(absl::StrCat("word", i % 97));
      if (i % 12 == 11) resources.essay_words.push_back(".");
    }
    auto nouns = ReadWordList("third_party/wordlists/nounlist.txt");
    auto adjectives = ReadWordList("third_party/wordlists/adjectivelist.txt");
    auto verbs = ReadWordList("third_party/wordlists/verblist.txt");
    ASSERT_THAT(nouns, IsOk());
    ASSERT_THAT(adjectives, IsOk());
    ASSERT_THAT(verbs, IsOk());
    resources.nouns = *nouns;
    resources.adjectives = *adjectives;
    resources.verbs = *verbs;
    auto generator = RulerGenerator::Create(*tokenizer_, retrieval::DetectChatFormat(*chat_template),
                                            std::move(resources), model_->info().context_length);
    ASSERT_THAT(generator, IsOk());
    generator_ = generator->release();
  }

  static KvCacheFactory Dense() {
    return [] { return model_->NewDenseCache(); };
  }
  static std::vector<int32_t> Stop() { return StopTokens(*tokenizer_, generator_->format()); }

  static KvCacheFactory Evicting(int64_t budget) {
    return [budget]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> dense, model_->NewDenseCache());
      KVLAB_ASSIGN_OR_RETURN(
          auto cache, EvictingKvCache::Create(
                          std::move(dense), std::make_unique<testing::KeepMostAttended>(),
                          std::vector<int64_t>(model_->info().attention.num_layers, budget),
                          EvictionSchedule::kOnceAfterPrefill));
      return std::unique_ptr<KvCache>(std::move(cache));
    };
  }

  static gguf::GgufFile* file_;
  static tokenizer::Tokenizer* tokenizer_;
  static model::DecoderModel* model_;
  static RulerGenerator* generator_;
};

gguf::GgufFile* RulerRunTest::file_ = nullptr;
tokenizer::Tokenizer* RulerRunTest::tokenizer_ = nullptr;
model::DecoderModel* RulerRunTest::model_ = nullptr;
RulerGenerator* RulerRunTest::generator_ = nullptr;

TEST_F(RulerRunTest, RecordsAuditEachSample) {
  ASSERT_OK_AND_ASSIGN(const RulerSample sample,
                       generator_->Generate("niah_single_1", 768, 42, 0));
  ASSERT_OK_AND_ASSIGN(const std::vector<RulerRecord> records,
                       RunRulerSample(*model_, *tokenizer_, sample, {Dense()}, true, Stop()));
  ASSERT_EQ(records.size(), 1u);
  const RulerRecord& r = records[0];
  EXPECT_EQ(r.task, "niah_single_1");
  EXPECT_EQ(r.prompt_hash, PromptHash(sample.prompt));
  EXPECT_EQ(r.prompt_hash.size(), 16u);
  EXPECT_EQ(r.answers, sample.answers);
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(sample.tokens.size()));
  EXPECT_GT(r.output_tokens, 0);
  EXPECT_LE(r.output_tokens, 128);
  EXPECT_EQ(r.score, StringMatchAll(r.output, r.answers));
  // The prompt and every answer token but a last one cut by the output limit.
  EXPECT_GE(r.tokens_forwarded, r.prompt_tokens + r.output_tokens - 1);
  EXPECT_LE(r.tokens_forwarded, r.prompt_tokens + r.output_tokens);
  // At 768 tokens the dense cache finds the single needle.
  EXPECT_EQ(r.score, 1.0) << r.output;
}

TEST_F(RulerRunTest, StopsAtTheEndOfTheModelsTurn) {
  std::vector<std::string> stops;
  for (const int32_t id : Stop()) stops.push_back(tokenizer_->Decode({id}));
  EXPECT_THAT(stops, ::testing::Contains("<|im_end|>"));
}

TEST_F(RulerRunTest, SharedPrefillAnswersAsAPrefillPerCache) {
  const std::vector<KvCacheFactory> caches = {Dense(), Evicting(128)};
  for (const char* task : {"niah_multikey_1"}) {
    ASSERT_OK_AND_ASSIGN(const RulerSample sample, generator_->Generate(task, 640, 42, 1));
    ASSERT_OK_AND_ASSIGN(const std::vector<RulerRecord> shared,
                         RunRulerSample(*model_, *tokenizer_, sample, caches, true, Stop()));
    for (size_t c = 0; c < caches.size(); ++c) {
      ASSERT_OK_AND_ASSIGN(
          const std::vector<RulerRecord> alone,
          RunRulerSample(*model_, *tokenizer_, sample, {caches[c]}, false, Stop()));
      EXPECT_EQ(shared[c].output, alone[0].output) << task << " cache " << c;
      EXPECT_EQ(shared[c].score, alone[0].score) << task << " cache " << c;
    }
  }
}

// Stopping once every answer is out leaves the score as it was and the output a
// prefix of the full one, ending where the last answer is complete.
TEST_F(RulerRunTest, StopsWhenAnsweredWithTheSameScore) {
  ASSERT_OK_AND_ASSIGN(const RulerSample sample, generator_->Generate("niah_single_1", 768, 42, 0));
  ASSERT_OK_AND_ASSIGN(const std::vector<RulerRecord> full,
                       RunRulerSample(*model_, *tokenizer_, sample, {Dense()}, true, Stop()));
  ASSERT_OK_AND_ASSIGN(const std::vector<RulerRecord> early,
                       RunRulerSample(*model_, *tokenizer_, sample, {Dense()}, true, Stop(),
                                      /*stop_when_answered=*/true));
  ASSERT_EQ(full[0].score, 1.0) << full[0].output;
  EXPECT_EQ(early[0].score, full[0].score);
  EXPECT_LT(early[0].output_tokens, full[0].output_tokens);
  EXPECT_TRUE(absl::StartsWith(full[0].output, early[0].output)) << early[0].output;
  EXPECT_TRUE(absl::EndsWith(early[0].output, sample.answers[0])) << early[0].output;
}

// Samples run index by index through every task, so a run cut short is balanced.
TEST_F(RulerRunTest, RunsEveryTaskAtAnIndexBeforeTheNext) {
  RulerRunOptions options;
  options.tasks = {"niah_single_1", "niah_single_2"};
  options.lengths = {384};
  options.samples = 2;
  ASSERT_OK_AND_ASSIGN(const std::vector<RulerCacheResult> results,
                       RunRuler(*model_, *tokenizer_, *generator_, options, {Dense()}));
  std::vector<std::pair<std::string, int64_t>> order;
  for (const RulerRecord& r : results[0].records) order.emplace_back(r.task, r.index);
  EXPECT_THAT(order, ::testing::ElementsAre(::testing::Pair("niah_single_1", 0),
                                            ::testing::Pair("niah_single_2", 0),
                                            ::testing::Pair("niah_single_1", 1),
                                            ::testing::Pair("niah_single_2", 1)));
}

TEST_F(RulerRunTest, ResumesBySkippingDoneSamples) {
  RulerRunOptions options;
  options.tasks = {"niah_single_1"};
  options.lengths = {384};
  options.samples = 3;
  int sunk = 0;
  ASSERT_OK_AND_ASSIGN(
      const std::vector<RulerCacheResult> results,
      RunRuler(*model_, *tokenizer_, *generator_, options, {Dense()},
               [](const std::string&, int64_t, int64_t index) { return index != 1; },
               [&](absl::Span<const RulerRecord> records) {
                 ++sunk;
                 EXPECT_EQ(records.size(), 1u);
                 return absl::OkStatus();
               }));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].records.size(), 1u);
  EXPECT_EQ(results[0].records[0].index, 1);
  EXPECT_EQ(sunk, 1);
  EXPECT_GT(results[0].usage.peak_held_bytes, 0);
  EXPECT_EQ(results[0].usage.peak_held_bytes, results[0].records[0].footprint.peak_held);
  EXPECT_EQ(results[0].usage.tokens_processed, results[0].records[0].tokens_forwarded);
  EXPECT_GT(results[0].records[0].seconds, 0.0);
  EXPECT_EQ(results[0].usage.seconds, results[0].records[0].seconds);
}

// A run's footprint is that of all its samples, however many processes ran them.
TEST(RulerUsageTest, FoldsEverySamplesFootprint) {
  RulerRecord a, b;
  a.footprint = {/*peak_held=*/100, /*peak_allocated=*/200, /*peak_metadata=*/10,
                 /*bytes_per_token_sum=*/30.0, /*observations=*/3};
  a.tokens_forwarded = 50;
  a.seconds = 2.0;
  b.footprint = {300, 150, 5, 10.0, 1};
  b.tokens_forwarded = 70;
  b.seconds = 3.0;
  const eval::PerplexityResult usage = RulerUsage({a, b}, 4);
  EXPECT_EQ(usage.peak_held_bytes, 300);
  EXPECT_EQ(usage.peak_allocated_bytes, 200);
  EXPECT_EQ(usage.peak_metadata_bytes, 10);
  EXPECT_DOUBLE_EQ(usage.mean_bytes_per_token, 10.0);  // 40 over 4 steps.
  EXPECT_EQ(usage.tokens_processed, 120);
  EXPECT_DOUBLE_EQ(usage.seconds, 5.0);
  EXPECT_EQ(usage.batch_size, 4);
}

TEST_F(RulerRunTest, BadOptionsNameTheField) {
  RulerRunOptions options;
  options.lengths = {1024};
  options.tasks = {"qa_1"};
  absl::StatusOr<std::vector<RulerCacheResult>> result =
      RunRuler(*model_, *tokenizer_, *generator_, options, {Dense()});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("ruler.tasks"));
  options.tasks = {};
  options.samples = 0;
  result = RunRuler(*model_, *tokenizer_, *generator_, options, {Dense()});
  EXPECT_THAT(result.status().message(), HasSubstr("ruler.samples must be >= 1"));
}

TEST(ScoreByTaskAndLengthTest, GroupsInOrder) {
  std::vector<RulerRecord> records(4);
  records[0].task = records[1].task = "vt";
  records[2].task = records[3].task = "cwe";
  for (RulerRecord& r : records) r.length = 4096;
  records[0].score = 1.0;
  records[1].score = 0.0;
  records[2].score = 0.5;
  records[3].score = 0.5;
  const std::vector<RulerTaskScore> scores = ScoreByTaskAndLength(records);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0].task, "vt");
  EXPECT_EQ(scores[0].score.samples, 2);
  EXPECT_DOUBLE_EQ(scores[0].score.mean, 0.5);
  EXPECT_EQ(scores[1].task, "cwe");
  EXPECT_DOUBLE_EQ(scores[1].score.mean, 0.5);
}

}  // namespace
}  // namespace kvlab::ruler

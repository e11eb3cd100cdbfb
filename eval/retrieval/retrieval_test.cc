#include "eval/retrieval/retrieval.h"

#include <ATen/ATen.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/evicting_kv_cache.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/load_model.h"
#include "eval/retrieval/chat_format.h"
#include "eval/retrieval/retrieval_prompt.h"
#include "eval/testing/default_model.h"
#include "eval/testing/keep_most_attended.h"
#include "eval/tokenizer/gguf_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::retrieval {
namespace {

using ::testing::HasSubstr;

class RetrievalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = gguf::GgufFile::Open(testing::kDefaultModelPath);
    ASSERT_THAT(file, IsOk());
    file_ = file->release();
    auto tokenizer = tokenizer::TokenizerFromGguf(*file_);
    ASSERT_THAT(tokenizer, IsOk());
    tokenizer_ = tokenizer->release();
    auto model = model::LoadModel(*file_, model::LoadOptions{});
    ASSERT_THAT(model, IsOk());
    model_ = model->release();
    auto chat_template = file_->GetString("tokenizer.chat_template");
    ASSERT_THAT(chat_template, IsOk());
    format_ = DetectChatFormat(*chat_template);
  }

  static absl::StatusOr<std::unique_ptr<PromptBuilder>> Builder(RetrievalTask task,
                                                                const std::string& text = "") {
    return PromptBuilder::Create(task, *tokenizer_, format_, text);
  }

  static gguf::GgufFile* file_;
  static tokenizer::Tokenizer* tokenizer_;
  static model::DecoderModel* model_;
  static ChatFormat format_;
};

gguf::GgufFile* RetrievalTest::file_ = nullptr;
tokenizer::Tokenizer* RetrievalTest::tokenizer_ = nullptr;
model::DecoderModel* RetrievalTest::model_ = nullptr;
ChatFormat RetrievalTest::format_;

// 150 distinct sentences, as a text of a few paragraphs with a heading.
std::string SentencesText() {
  std::string text = " = A heading = \n";
  for (int i = 0; i < 150; ++i) {
    absl::StrAppend(&text, "Line ", i, " of the text is about item ", i * 7, ".", i % 10 == 9 ? "\n" : " ");
  }
  return text;
}

TEST_F(RetrievalTest, SmolLm2UsesChatMlWithItsSystemTurn) {
  EXPECT_EQ(format_.style, ChatStyle::kChatMl);
  EXPECT_THAT(format_.default_system, HasSubstr("SmolLM"));
}

TEST_F(RetrievalTest, PasskeyPromptHasTheLengthAndTheFactAtItsDepth) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PromptBuilder> builder, Builder(RetrievalTask::kPasskey));
  for (double depth : {0.0, 0.5, 1.0}) {
    auto prompt = builder->Build(600, depth, 3);
    ASSERT_THAT(prompt, IsOk());
    EXPECT_LE(prompt->tokens.size(), 600u);
    EXPECT_GE(prompt->tokens.size(), 560u);  // Within one filler unit of the target.
    ASSERT_EQ(prompt->answer.size(), 5u);
    const std::string text = tokenizer_->Decode(prompt->tokens);
    const size_t fact = text.find(absl::StrCat("The pass key is ", prompt->answer, "."));
    ASSERT_NE(fact, std::string::npos);
    const size_t first = text.find("The grass is green.");
    const size_t last = text.rfind("There and back again.");
    ASSERT_NE(first, std::string::npos);
    // The fact's place among the filler, as a fraction of the filler's span.
    const double where = (static_cast<double>(fact) - first) / (last - first);
    EXPECT_NEAR(where, depth, 0.1) << text;
    EXPECT_TRUE(absl::EndsWith(text, "<|im_start|>assistant\nThe pass key is")) << text;
  }
  // The seed picks the number; the same seed, the same prompt.
  ASSERT_OK_AND_ASSIGN(const RetrievalPrompt seed3, builder->Build(600, 0.5, 3));
  ASSERT_OK_AND_ASSIGN(const RetrievalPrompt seed4, builder->Build(600, 0.5, 4));
  ASSERT_OK_AND_ASSIGN(const RetrievalPrompt seed3_again, builder->Build(600, 0.5, 3));
  EXPECT_NE(seed3.answer, seed4.answer);
  EXPECT_EQ(seed3.tokens, seed3_again.tokens);
}

TEST_F(RetrievalTest, NeedlePromptPlantsTheSentenceInTheText) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PromptBuilder> builder,
                       Builder(RetrievalTask::kNeedle, SentencesText()));
  auto prompt = builder->Build(400, 0.25, 1);
  ASSERT_THAT(prompt, IsOk());
  EXPECT_LE(prompt->tokens.size(), 400u);
  const std::string text = tokenizer_->Decode(prompt->tokens);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("The secret code of the archive is ", prompt->answer, ".")));
  EXPECT_THAT(text, HasSubstr("of the text is about item"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("A heading")));
}

TEST_F(RetrievalTest, BadRequestsAreErrors) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PromptBuilder> builder, Builder(RetrievalTask::kPasskey));
  EXPECT_THAT(builder->Build(20, 0.5, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no room for filler")));
  EXPECT_THAT(builder->Build(600, 1.5, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("depth")));
  EXPECT_THAT(PromptBuilder::Create(RetrievalTask::kNeedle, *tokenizer_, format_, "One. Two."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100 sentences")));
}

TEST_F(RetrievalTest, EveryPromptHasItsOwnSeed) {
  EXPECT_NE(PromptSeed(0, 1024, 0, 0), PromptSeed(0, 1024, 1, 0));
  EXPECT_NE(PromptSeed(0, 1024, 0, 0), PromptSeed(0, 2048, 0, 0));
  EXPECT_NE(PromptSeed(0, 1024, 0, 0), PromptSeed(0, 1024, 0, 1));
  EXPECT_NE(PromptSeed(0, 1024, 0, 0), PromptSeed(1, 1024, 0, 0));
  EXPECT_EQ(PromptSeed(7, 1024, 2, 3), PromptSeed(7, 1024, 2, 3));
}

TEST_F(RetrievalTest, FirstNumberIsTheAnswer) {
  EXPECT_EQ(FirstNumber(" 48213. Remember"), "48213");
  EXPECT_EQ(FirstNumber(" unknown"), "");
}

// The model answers through a dense cache, and two caches in lockstep answer as one
// alone does.
TEST_F(RetrievalTest, DenseCacheAnswersThePasskey) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PromptBuilder> builder, Builder(RetrievalTask::kPasskey));
  RetrievalOptions options;
  options.context_tokens = {512};
  options.depths = {0.0, 0.5, 1.0};
  options.trials = 2;
  const KvCacheFactory dense = [] { return model_->NewDenseCache(); };
  auto pair = RunRetrieval(*model_, *tokenizer_, *builder, options, {dense, dense});
  ASSERT_THAT(pair, IsOk());
  ASSERT_EQ(pair->size(), 2u);
  const RetrievalResult& r = (*pair)[0];
  ASSERT_EQ(r.cells.size(), 3u);
  for (size_t c = 0; c < r.cells.size(); ++c) {
    EXPECT_EQ(r.cells[c].trials, 2);
    // SmolLM2-135M-Instruct finds the pass key at every depth of a 512-token prompt.
    EXPECT_EQ(r.cells[c].correct, 2) << "depth " << r.cells[c].depth << " answers "
                                     << absl::StrJoin(r.cells[c].answers, " ");
    EXPECT_EQ(r.cells[c].answers, (*pair)[1].cells[c].answers);
  }
  EXPECT_GT(r.usage.peak_held_bytes, 0);
  EXPECT_GT(r.usage.mean_bytes_per_token, 0.0);
  EXPECT_EQ(r.usage.batch_size, 2);
  EXPECT_EQ(r.accuracy(), 1.0);
}


// A shared prefill answers as a prefill per cache, for the dense cache and a cache
// that compresses the prompt once.
TEST_F(RetrievalTest, SharedPrefillAnswersAsAPrefillPerCache) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PromptBuilder> builder,
                       Builder(RetrievalTask::kNeedle, SentencesText()));
  RetrievalOptions options;
  options.context_tokens = {384};
  options.depths = {0.25, 0.75};
  options.trials = 1;
  const KvCacheFactory dense = [] { return model_->NewDenseCache(); };
  const KvCacheFactory evicting = []() -> absl::StatusOr<std::unique_ptr<KvCache>> {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> inner, model_->NewDenseCache());
    KVLAB_ASSIGN_OR_RETURN(
        auto cache, EvictingKvCache::Create(
                        std::move(inner), std::make_unique<testing::KeepMostAttended>(),
                        std::vector<int64_t>(model_->info().attention.num_layers, 96),
                        EvictionSchedule::kOnceAfterPrefill));
    return std::unique_ptr<KvCache>(std::move(cache));
  };
  options.shared_prefill = true;
  ASSERT_OK_AND_ASSIGN(const std::vector<RetrievalResult> shared,
                       RunRetrieval(*model_, *tokenizer_, *builder, options, {dense, evicting}));
  options.shared_prefill = false;
  for (size_t c = 0; c < 2; ++c) {
    ASSERT_OK_AND_ASSIGN(
        const std::vector<RetrievalResult> alone,
        RunRetrieval(*model_, *tokenizer_, *builder, options, {c == 0 ? dense : evicting}));
    for (size_t cell = 0; cell < 2; ++cell) {
      EXPECT_EQ(shared[c].cells[cell].answers, alone[0].cells[cell].answers) << c;
    }
  }
}

}  // namespace
}  // namespace kvlab::retrieval

// Samples on the default model's tokenizer (SmolLM2, ChatML), with wonderwords' lists
// and a made-up essay: every task fitted to its length, its answers in its prompt,
// the same sample for the same arguments.
#include "eval/ruler/generator.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/retrieval/chat_format.h"
#include "eval/ruler/resources.h"
#include "eval/ruler/tasks.h"
#include "eval/testing/default_model.h"
#include "eval/tokenizer/gguf_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::ruler {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kWordLists[] = "third_party/wordlists";

// An essay of 400 varied sentences.
std::string Essay() {
  const char* subjects[] = {"The river", "A small town", "Her brother", "The old engine",
                            "Our teacher"};
  const char* verbs[] = {"crossed", "watched", "carried", "painted", "remembered"};
  const char* objects[] = {"the valley", "a letter", "the bright lamp", "an open field",
                           "the last train"};
  std::string text = " = Heading = \n";
  for (int i = 0; i < 400; ++i) {
    absl::StrAppend(&text, " ", subjects[i % 5], " ", verbs[(i / 5) % 5], " ",
                    objects[(i / 25) % 5], " in year ", 1900 + i, " .");
    if (i % 20 == 19) text += "\n";
  }
  return text;
}

class RulerGeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = gguf::GgufFile::Open(testing::kDefaultModelPath);
    ASSERT_THAT(file, IsOk());
    file_ = file->release();
    auto tokenizer = tokenizer::TokenizerFromGguf(*file_);
    ASSERT_THAT(tokenizer, IsOk());
    tokenizer_ = tokenizer->release();
    auto chat_template = file_->GetString("tokenizer.chat_template");
    ASSERT_THAT(chat_template, IsOk());
    format_ = retrieval::DetectChatFormat(*chat_template);
  }

  static RulerResources Resources() {
    RulerResources resources;
    auto nouns = ReadWordList(absl::StrCat(kWordLists, "/nounlist.txt"));
    auto adjectives = ReadWordList(absl::StrCat(kWordLists, "/adjectivelist.txt"));
    auto verbs = ReadWordList(absl::StrCat(kWordLists, "/verblist.txt"));
    EXPECT_THAT(nouns, IsOk());
    EXPECT_THAT(adjectives, IsOk());
    EXPECT_THAT(verbs, IsOk());
    resources.nouns = *nouns;
    resources.adjectives = *adjectives;
    resources.verbs = *verbs;
    resources.essay_words = EssayWords(Essay());
    return resources;
  }

  static std::unique_ptr<RulerGenerator> Generator(int64_t model_context = 8192) {
    auto generator = RulerGenerator::Create(*tokenizer_, format_, Resources(), model_context);
    EXPECT_THAT(generator, IsOk());
    return *std::move(generator);
  }

  static gguf::GgufFile* file_;
  static tokenizer::Tokenizer* tokenizer_;
  static retrieval::ChatFormat format_;
};

gguf::GgufFile* RulerGeneratorTest::file_ = nullptr;
tokenizer::Tokenizer* RulerGeneratorTest::tokenizer_ = nullptr;
retrieval::ChatFormat RulerGeneratorTest::format_;

TEST_F(RulerGeneratorTest, EveryTaskFitsItsLengthWithItsAnswersInThePrompt) {
  ASSERT_EQ(format_.style, retrieval::ChatStyle::kChatMl);
  std::unique_ptr<RulerGenerator> generator = Generator();
  for (const TaskSpec& task : RulerTasks()) {
    SCOPED_TRACE(task.name);
    absl::StatusOr<RulerSample> sample = generator->Generate(task.name, 4096, 42, 0);
    ASSERT_THAT(sample, IsOk());
    EXPECT_EQ(sample->output_tokens, task.output_tokens);
    EXPECT_LE(sample->total_tokens(), 4096);
    // Within one haystack unit of the target: a noise paragraph (about 25 tokens), a
    // distractor needle (about 35; one with two UUIDs about 70), a word or list entry.
    const int64_t unit = std::string(task.name) == "niah_multikey_3" ? 96 : 48;
    EXPECT_GT(sample->total_tokens(), 4096 - unit);
    // Tokenized in two pieces, as the whole prompt is.
    EXPECT_EQ(sample->tokens, tokenizer_->Encode(sample->prompt, tokenizer_->add_bos()));
    const std::string question = tokenizer_->Decode(std::vector<int32_t>(
        sample->tokens.begin() + sample->context_tokens, sample->tokens.end()));
    EXPECT_THAT(question, StartsWith("\n"));
    EXPECT_THAT(question, HasSubstr("<|im_end|>\n<|im_start|>assistant\n "));
    EXPECT_LT(question.size(), 400u);
    EXPECT_THAT(sample->prompt, StartsWith("<|im_start|>"));
    // The answer prefix opens the model's turn.
    EXPECT_THAT(sample->prompt, HasSubstr("<|im_end|>\n<|im_start|>assistant\n "));
    ASSERT_FALSE(sample->answers.empty());
    for (const std::string& answer : sample->answers) {
      EXPECT_THAT(sample->prompt, HasSubstr(answer));
    }
  }
}

TEST_F(RulerGeneratorTest, FineGrainedHaystacksLandWithinAFewTokens) {
  std::unique_ptr<RulerGenerator> generator = Generator();
  for (const char* task : {"niah_single_2", "niah_multivalue", "cwe", "fwe"}) {
    absl::StatusOr<RulerSample> sample = generator->Generate(task, 4096, 42, 1);
    ASSERT_THAT(sample, IsOk());
    EXPECT_GT(sample->total_tokens(), 4096 - 12) << task;
  }
}

TEST_F(RulerGeneratorTest, NeedleSitsWhereThePromptSays) {
  std::unique_ptr<RulerGenerator> generator = Generator();
  absl::StatusOr<RulerSample> sample = generator->Generate("niah_single_1", 2048, 7, 3);
  ASSERT_THAT(sample, IsOk());
  const std::string& value = sample->answers[0];
  const size_t needle = sample->prompt.find(absl::StrCat(" is: ", value, "."));
  ASSERT_NE(needle, std::string::npos);
  const size_t start = sample->prompt.rfind("One of the special magic numbers for ", needle);
  ASSERT_NE(start, std::string::npos);
  const std::string key =
      sample->prompt.substr(start + 37, needle - (start + 37));
  EXPECT_THAT(sample->prompt,
              HasSubstr(absl::StrCat("What is the special magic number for ", key,
                                     " mentioned in the provided text?")));
  EXPECT_THAT(sample->prompt, ::testing::EndsWith(absl::StrCat(
                                  " The special magic number for ", key,
                                  " mentioned in the provided text is")));
}

TEST_F(RulerGeneratorTest, ASampleIsAPureFunctionOfItsArguments) {
  absl::StatusOr<RulerSample> a = Generator()->Generate("vt", 2048, 5, 2);
  absl::StatusOr<RulerSample> b = Generator()->Generate("vt", 2048, 5, 2);
  absl::StatusOr<RulerSample> other_index = Generator()->Generate("vt", 2048, 5, 3);
  absl::StatusOr<RulerSample> other_seed = Generator()->Generate("vt", 2048, 6, 2);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(other_index, IsOk());
  ASSERT_THAT(other_seed, IsOk());
  EXPECT_EQ(a->prompt, b->prompt);
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_EQ(a->answers, b->answers);
  EXPECT_NE(a->prompt, other_index->prompt);
  EXPECT_NE(a->prompt, other_seed->prompt);
}

TEST_F(RulerGeneratorTest, LengthsBeyondTheModelOrTooShortAreErrors) {
  std::unique_ptr<RulerGenerator> generator = Generator(2048);
  absl::StatusOr<RulerSample> beyond = generator->Generate("niah_single_1", 4096, 0, 0);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(beyond.status().message(), HasSubstr("beyond the model's context of 2048"));
  absl::StatusOr<RulerSample> short_one = generator->Generate("cwe", 200, 0, 0);
  EXPECT_EQ(short_one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(short_one.status().message(), HasSubstr("too short for cwe"));
  EXPECT_EQ(generator->Generate("qa_2", 1024, 0, 0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ResourcesTest, EssayWordsSkipHeadings) {
  EXPECT_EQ(EssayWords(" = Title = \n One two .\n\n = = Sub = = \n Three ."),
            (std::vector<std::string>{"One", "two", ".", "Three", "."}));
  EXPECT_EQ(ReadWordList("/nonexistent/words.txt").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kvlab::ruler

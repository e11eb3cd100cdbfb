// Each task's text against what RULER writes, checked by hand on small haystacks.
#include "eval/ruler/tasks.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_matchers.h"
#include "eval/ruler/common_words.h"
#include "eval/ruler/frequent_words.h"
#include "eval/ruler/niah.h"
#include "eval/ruler/sample_random.h"
#include "eval/ruler/variable_tracking.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::ruler {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

RulerResources SmallResources() {
  RulerResources r;
  r.nouns = {"apple", "bridge", "candle", "desk", "engine", "forest"};
  r.adjectives = {"bright", "calm", "damp"};
  r.verbs = {"run", "sing", "walk"};
  // Twelve sentences of four words each.
  for (int s = 0; s < 12; ++s) {
    for (const char* w : {"word", "another", "more"}) r.essay_words.push_back(w);
    r.essay_words.push_back(absl::StrCat("end", s, "."));
  }
  return r;
}

std::vector<std::string> Lines(const std::string& text) { return absl::StrSplit(text, '\n'); }

int64_t Count(const std::vector<std::string>& items, const std::string& item) {
  return std::count(items.begin(), items.end(), item);
}

TaskSpec Task(const char* name) {
  absl::StatusOr<TaskSpec> task = FindRulerTask(name);
  EXPECT_THAT(task, IsOk());
  return *task;
}

TEST(RulerTasksTest, ElevenTasksWithRulersOutputLengths) {
  ASSERT_EQ(RulerTasks().size(), 11u);
  EXPECT_EQ(Task("niah_multiquery").output_tokens, 128);
  EXPECT_EQ(Task("vt").output_tokens, 30);
  EXPECT_EQ(Task("cwe").output_tokens, 120);
  EXPECT_EQ(Task("fwe").output_tokens, 50);
  const absl::StatusOr<TaskSpec> qa = FindRulerTask("qa_1");
  EXPECT_EQ(qa.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(qa.status().message(), HasSubstr("niah_single_1, niah_single_2"));
}

TEST(FillTemplateTest, ReplacesInOnePass) {
  EXPECT_EQ(FillTemplate("{a} and {b}", {{"a", "{b}"}, {"b", "x"}}), "{b} and x");
}

TEST(SplitSentencesTest, CutsAfterSentenceEnds) {
  EXPECT_EQ(SplitSentences({"He", "said", "\"Go.\"", "Then", "left", "!", "Tail"}),
            (std::vector<std::string>{"He said \"Go.\"", "Then left !", "Tail"}));
}

TEST(NiahTest, SingleNeedleInNoiseIsWrittenInTheSingular) {
  SampleRandom random(1);
  const TaskText text = ComposeNiah(Task("niah_single_1").niah, 10, SmallResources(), random);
  ASSERT_EQ(text.answers.size(), 1u);
  const std::string& value = text.answers[0];
  EXPECT_EQ(value.size(), 7u);  // A seven-digit number.
  const std::vector<std::string> lines = Lines(text.user);
  // The instruction, 10 noise lines with the needle among them, the question.
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0],
            "A special magic number is hidden within the following text. Make sure to memorize "
            "it. I will quiz you about the number afterwards.");
  int needles = 0;
  std::string key;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    if (lines[i] == kNoiseParagraph) continue;
    ++needles;
    ASSERT_THAT(lines[i], AllOf(StartsWith("One of the special magic numbers for "),
                                HasSubstr(absl::StrCat(" is: ", value, "."))));
    key = lines[i].substr(std::string("One of the special magic numbers for ").size());
    key = key.substr(0, key.find(" is: "));
  }
  EXPECT_EQ(needles, 1);
  EXPECT_EQ(lines.back(),
            absl::StrCat("What is the special magic number for ", key,
                         " mentioned in the provided text?"));
  EXPECT_EQ(text.answer_prefix,
            absl::StrCat(" The special magic number for ", key, " mentioned in the provided text is"));
}

TEST(NiahTest, MultikeyEssayPlacesEveryNeedleBetweenSentences) {
  SampleRandom random(2);
  const TaskText text = ComposeNiah(Task("niah_multikey_1").niah, 48, SmallResources(), random);
  ASSERT_EQ(text.answers.size(), 1u);
  const std::string context = Lines(text.user)[1];
  // Four needles; each follows a sentence end (or opens the context) and is followed by
  // another sentence or the end.
  int needles = 0;
  for (size_t at = context.find("One of"); at != std::string::npos;
       at = context.find("One of", at + 1)) {
    ++needles;
    EXPECT_TRUE(at == 0 || context.substr(at - 2, 2) == ". ") << context;
  }
  EXPECT_EQ(needles, 4);
  EXPECT_THAT(context, HasSubstr(absl::StrCat(" is: ", text.answers[0], ".")));
  // The essay's 12 sentences are all there, in order.
  EXPECT_LT(context.find("end0."), context.find("end11."));
  EXPECT_THAT(text.answer_prefix, HasSubstr("special magic number for"));
}

TEST(NiahTest, MultivalueAsksForAllFourValuesInThePlural) {
  SampleRandom random(3);
  const TaskText text = ComposeNiah(Task("niah_multivalue").niah, 48, SmallResources(), random);
  ASSERT_EQ(text.answers.size(), 4u);
  for (const std::string& value : text.answers) {
    EXPECT_THAT(text.user, HasSubstr(absl::StrCat(" is: ", value, ".")));
  }
  EXPECT_THAT(text.user, StartsWith("Some special magic numbers are hidden"));
  EXPECT_THAT(text.user, HasSubstr("What are all the special magic numbers for "));
  EXPECT_THAT(text.answer_prefix, HasSubstr("mentioned in the provided text are"));
}

TEST(NiahTest, MultiqueryNamesFourKeys) {
  SampleRandom random(4);
  const TaskText text = ComposeNiah(Task("niah_multiquery").niah, 48, SmallResources(), random);
  ASSERT_EQ(text.answers.size(), 4u);
  EXPECT_THAT(text.answer_prefix, HasSubstr(", and "));
  for (const std::string& value : text.answers) {
    EXPECT_THAT(text.user, HasSubstr(absl::StrCat(" is: ", value, ".")));
  }
}

TEST(NiahTest, NeedleHaystackHidesTheNeedleAmongDistractors) {
  SampleRandom random(5);
  const TaskText text = ComposeNiah(Task("niah_multikey_3").niah, 20, SmallResources(), random);
  ASSERT_EQ(text.answers.size(), 1u);
  const std::string& uuid = text.answers[0];
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');  // Version 4.
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);  // RFC 4122 variant.
  const std::vector<std::string> lines = Lines(text.user);
  ASSERT_EQ(lines.size(), 1 + 21 + 1u);
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    EXPECT_THAT(lines[i], StartsWith("One of the special magic uuids for "));
  }
  EXPECT_EQ(Count(lines, "") , 0);
  EXPECT_THAT(text.user, HasSubstr(absl::StrCat(" is: ", uuid, ".")));
}

TEST(VariableTrackingTest, ChainInOrderAfterASolvedExample) {
  SampleRandom random(6);
  const TaskText text = ComposeVariableTracking(30, 8, random);
  ASSERT_EQ(text.answers.size(), 5u);
  for (const std::string& name : text.answers) EXPECT_EQ(name.size(), 5u);
  // The task after the example: find the chain's lines in order.
  const size_t task_start = text.user.rfind("Memorize and track");
  ASSERT_NE(task_start, std::string::npos);
  ASSERT_GT(task_start, 0u);  // The example came first.
  const std::string task = text.user.substr(task_start);
  size_t at = task.find(absl::StrCat("\nVAR ", text.answers[0], " = "));
  ASSERT_NE(at, std::string::npos);
  const std::string value = task.substr(at + 13, 5);
  for (int hop = 1; hop < 5; ++hop) {
    const size_t next = task.find(
        absl::StrCat("\nVAR ", text.answers[hop], " = VAR ", text.answers[hop - 1], " \n"));
    ASSERT_NE(next, std::string::npos) << hop;
    EXPECT_GT(next, at);
    at = next;
  }
  EXPECT_EQ(Count(Lines(task), kNoiseParagraph), 30);
  EXPECT_THAT(task, HasSubstr(absl::StrCat("assigned the value ", value, " in the text above.")));
  EXPECT_EQ(text.answer_prefix,
            absl::StrCat(" Answer: According to the chain(s) of variable assignment in the text "
                         "above, 5 variables are assigned the value ",
                         value, ", they are: "));
  // The example is answered: its prefix then its five three-letter names.
  const std::string example = text.user.substr(0, task_start);
  EXPECT_THAT(example, HasSubstr("variables are assigned the value "));
  EXPECT_EQ(Count(Lines(example), kNoiseParagraph), 8);
}

// The list's entries, "1. word 2. word ..." -> words.
std::vector<std::string> ListWords(const std::string& list) {
  std::vector<std::string> words;
  const std::vector<std::string> parts = absl::StrSplit(list, ' ');
  for (size_t i = 1; i < parts.size(); i += 2) words.push_back(parts[i]);
  return words;
}

// SmallResources() with 50 more nouns: enough for the solved example's 40 words.
std::vector<std::string> CommonWords() {
  RulerResources resources = SmallResources();
  for (int i = 0; i < 50; ++i) resources.nouns.push_back(absl::StrCat("noun", i));
  std::sort(resources.nouns.begin(), resources.nouns.end());
  return CommonWordsVocabulary(resources);
}

TEST(CommonWordsTest, TenWordsThirtyTimesTheRestThree) {
  const std::vector<std::string> vocabulary = CommonWords();
  EXPECT_EQ(vocabulary.size(), 62u);
  SampleRandom random(7);
  const TaskText text = ComposeCommonWords(12, 4096, vocabulary, random);
  ASSERT_EQ(text.answers.size(), 10u);
  const std::vector<std::string> lines = Lines(text.user);
  // Example: instruction, list, question + answer; then the task's three lines.
  ASSERT_EQ(lines.size(), 6u);
  const std::vector<std::string> words = ListWords(lines[4]);
  EXPECT_EQ(words.size(), 10 * 30 + 2 * 3u);
  for (const std::string& w : text.answers) EXPECT_EQ(Count(words, w), 30) << w;
  EXPECT_THAT(lines[2], HasSubstr("in the list are: 1. "));
  EXPECT_EQ(ListWords(lines[1]).size(), 10 * 10 + 30 * 3u);
  EXPECT_EQ(text.answer_prefix, " Answer: The top 10 words that appear most often in the list are:");
}

TEST(CommonWordsTest, BelowFourThousandTokensRepeatsLess) {
  SampleRandom random(8);
  const TaskText text =
      ComposeCommonWords(12, 2048, CommonWords(), random);
  const std::vector<std::string> words = ListWords(Lines(text.user)[4]);
  EXPECT_EQ(words.size(), 10 * 6 + 2 * 1u);
  EXPECT_EQ(ListWords(Lines(text.user)[1]).size(), 10 * 3 + 10 * 1u);
}

TEST(FrequentWordsTest, AnswersAreRanksTwoToFourOfAZipfLaw) {
  SampleRandom random(9);
  const TaskText text = ComposeFrequentWords(1000, 40, random);
  ASSERT_EQ(text.answers.size(), 3u);
  const std::string prefix = "three most frequently appeared coded words. ";
  const size_t start = text.user.find(prefix) + prefix.size();
  const std::string context = text.user.substr(start, text.user.find('\n') - start);
  std::map<std::string, int64_t> counts;
  for (absl::string_view w : absl::StrSplit(context, ' ')) ++counts[std::string(w)];
  // floor(1000 k^-2 / zeta(2)) for k = 1..4.
  EXPECT_EQ(counts["..."], 607);
  EXPECT_EQ(counts[text.answers[0]], 151);
  EXPECT_EQ(counts[text.answers[1]], 67);
  EXPECT_EQ(counts[text.answers[2]], 37);
  for (const auto& [word, count] : counts) {
    if (word == "..." || Count(text.answers, word) > 0) continue;
    EXPECT_LT(count, 37) << word;
  }
  EXPECT_EQ(FrequentWordsVocabularySize(4096, 50), 80);
}

}  // namespace
}  // namespace kvlab::ruler

#include "eval/ruler/common_words.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kvlab::ruler {

namespace {

// scripts/data/synthetic/constants.py, 'common_words_extraction'.
constexpr char kTemplate[] =
    "Below is a numbered list of words. In these words, some appear more often than others. "
    "Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most "
    "common words in the above list?";
constexpr char kAnswerPrefix[] =
    " Answer: The top 10 words that appear most often in the list are:";

// "1. first 2. second ..."
std::string Numbered(const std::vector<std::string>& words) {
  std::vector<std::string> items;
  for (size_t i = 0; i < words.size(); ++i) items.push_back(absl::StrCat(i + 1, ". ", words[i]));
  return absl::StrJoin(items, " ");
}

struct WordList {
  std::string context;              // The numbered list.
  std::vector<std::string> common;  // Its kCommonWordsAnswers most common words.
};

WordList MakeList(const std::vector<std::string>& vocabulary, int64_t words, int common_repeats,
                  int other_repeats, SampleRandom& random) {
  std::vector<std::string> drawn;
  for (const int64_t i : random.Sample(static_cast<int64_t>(vocabulary.size()), words)) {
    drawn.push_back(vocabulary[i]);
  }
  std::vector<std::string> list;
  for (int64_t i = 0; i < words; ++i) {
    const int repeats = i < kCommonWordsAnswers ? common_repeats : other_repeats;
    for (int r = 0; r < repeats; ++r) list.push_back(drawn[i]);
  }
  random.Shuffle(list);
  return WordList{Numbered(list),
                  std::vector<std::string>(drawn.begin(), drawn.begin() + kCommonWordsAnswers)};
}

}  // namespace

std::vector<std::string> CommonWordsVocabulary(const RulerResources& resources) {
  std::vector<std::string> words = resources.nouns;
  words.insert(words.end(), resources.adjectives.begin(), resources.adjectives.end());
  words.insert(words.end(), resources.verbs.begin(), resources.verbs.end());
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

TaskText ComposeCommonWords(int64_t units, int64_t length,
                            const std::vector<std::string>& vocabulary, SampleRandom& random) {
  const bool short_context = length < 4096;
  const WordList example = short_context ? MakeList(vocabulary, 20, 3, 1, random)
                                         : MakeList(vocabulary, 40, 10, 3, random);
  const WordList list = short_context ? MakeList(vocabulary, units, 6, 1, random)
                                      : MakeList(vocabulary, units, 30, 3, random);
  TaskText text;
  text.user = absl::StrCat(FillTemplate(kTemplate, {{"context", example.context}}), kAnswerPrefix,
                           " ", Numbered(example.common), "\n",
                           FillTemplate(kTemplate, {{"context", list.context}}));
  text.answer_prefix = kAnswerPrefix;
  text.answers = list.common;
  return text;
}

}  // namespace kvlab::ruler

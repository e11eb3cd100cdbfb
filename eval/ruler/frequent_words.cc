#include "eval/ruler/frequent_words.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"

namespace kvlab::ruler {

namespace {

// scripts/data/synthetic/constants.py, 'freq_words_extraction'.
constexpr char kTemplate[] =
    "Read the following coded text and track the frequency of each coded word. Find the three "
    "most frequently appeared coded words. {context}\nQuestion: Do not provide any "
    "explanation. Please ignore the dots '....'. What are the three most frequently appeared "
    "words in the above coded text?";
constexpr char kAnswerPrefix[] =
    " Answer: According to the coded text above, the three most frequently appeared words "
    "are:";
constexpr int kWordLetters = 6;
constexpr double kAlpha = 2.0;
constexpr double kZetaOfAlpha = M_PI * M_PI / 6.0;  // zeta(2).

}  // namespace

int64_t FrequentWordsVocabularySize(int64_t length, int output_tokens) {
  return std::max<int64_t>(4, (length - output_tokens) / 50);
}

TaskText ComposeFrequentWords(int64_t units, int64_t vocabulary_size, SampleRandom& random) {
  std::set<std::string> distinct;
  while (static_cast<int64_t>(distinct.size()) < vocabulary_size) {
    std::string word;
    for (int i = 0; i < kWordLetters; ++i) word += static_cast<char>('a' + random.Uniform(0, 25));
    distinct.insert(std::move(word));
  }
  std::vector<std::string> vocabulary(distinct.begin(), distinct.end());
  random.Shuffle(vocabulary);
  vocabulary[0] = "...";  // The most frequent word is noise.

  std::vector<std::string> words;
  for (int64_t k = 1; k <= vocabulary_size; ++k) {
    const auto count = static_cast<int64_t>(static_cast<double>(units) *
                                            std::pow(static_cast<double>(k), -kAlpha) /
                                            kZetaOfAlpha);
    for (int64_t i = 0; i < count; ++i) words.push_back(vocabulary[k - 1]);
  }
  random.Shuffle(words);

  TaskText text;
  text.user = FillTemplate(kTemplate, {{"context", absl::StrJoin(words, " ")}});
  text.answer_prefix = kAnswerPrefix;
  text.answers = {vocabulary[1], vocabulary[2], vocabulary[3]};
  return text;
}

}  // namespace kvlab::ruler

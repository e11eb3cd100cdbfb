// RULER's common words extraction (scripts/data/synthetic/common_words_extraction.py,
// the suite's `cwe`): a numbered list of words in which ten words appear 30 times and
// every other word 3 times (6 and 1 below 4K tokens); the model is asked for the ten
// most common. One solved example of 40 words (10 and 3 repeats; 20 words with 3 and
// 1 below 4K) comes first.
//
// Words are drawn without replacement from wonderwords' nouns, adjectives and verbs
// together. RULER switches to a larger English word list when a length needs more
// words than those (past about 100K tokens); kvlab does not have that list, and such a
// sample is an error.
#ifndef KVLAB_EVAL_RULER_COMMON_WORDS_H_
#define KVLAB_EVAL_RULER_COMMON_WORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "eval/ruler/resources.h"
#include "eval/ruler/sample_random.h"
#include "eval/ruler/tasks.h"

namespace kvlab::ruler {

inline constexpr int kCommonWordsAnswers = 10;

// wonderwords' nouns, adjectives and verbs, sorted, without duplicates.
std::vector<std::string> CommonWordsVocabulary(const RulerResources& resources);

// One sample whose list holds `units` distinct words (kCommonWordsAnswers <= units <=
// vocabulary size; the vocabulary holds at least the solved example's 40 words).
// `length` picks RULER's repeat counts (short below 4096 tokens).
TaskText ComposeCommonWords(int64_t units, int64_t length,
                            const std::vector<std::string>& vocabulary, SampleRandom& random);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_COMMON_WORDS_H_

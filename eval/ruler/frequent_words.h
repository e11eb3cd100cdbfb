// RULER's frequent words extraction (scripts/data/synthetic/freq_words_extraction.py,
// the suite's `fwe`): a text of random six-letter "coded words" whose counts follow a
// Zipf law (the word of rank k appears floor(n k^-2 / zeta(2)) times in n words); the
// most frequent is "...", which the question says to ignore, and the model is asked
// for the next three.
#ifndef KVLAB_EVAL_RULER_FREQUENT_WORDS_H_
#define KVLAB_EVAL_RULER_FREQUENT_WORDS_H_

#include <cstdint>

#include "eval/ruler/sample_random.h"
#include "eval/ruler/tasks.h"

namespace kvlab::ruler {

// The fewest words for which the three answers appear more often than the word below
// them (rank 4 floor(n / 16 zeta(2)) > rank 5 floor(n / 25 zeta(2)) from n = 80 on).
inline constexpr int64_t kFrequentWordsMinimumUnits = 80;

// RULER's vocabulary for a length: one coded word per 50 tokens of the prompt's
// budget (length less the output tokens), at least 4.
int64_t FrequentWordsVocabularySize(int64_t length, int output_tokens);

// One sample of about `units` words (Zipf counts rounded down) over a vocabulary of
// `vocabulary_size` (>= 4) coded words.
TaskText ComposeFrequentWords(int64_t units, int64_t vocabulary_size, SampleRandom& random);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_FREQUENT_WORDS_H_

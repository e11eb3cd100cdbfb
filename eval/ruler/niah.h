// RULER's needle-in-a-haystack tasks (scripts/data/synthetic/niah.py): needles "One of
// the special magic {numbers} for {key} is: {value}." hidden in a haystack; the
// question names one or more keys and asks for all their values.
//
// Noise and needle haystacks are `units` filler lines (the noise paragraph, or a
// distractor needle with a random key) joined by newlines, the needles inserted at
// random lines. An essay haystack is the first `units` words of the essay (repeated
// from its start when it is shorter), cut into sentences, each needle placed between
// sentences at a depth drawn without replacement from RULER's 40 depths (0% to 100%).
#ifndef KVLAB_EVAL_RULER_NIAH_H_
#define KVLAB_EVAL_RULER_NIAH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "eval/ruler/resources.h"
#include "eval/ruler/sample_random.h"
#include "eval/ruler/tasks.h"

namespace kvlab::ruler {

// The fewest haystack units a task can hold its needles in.
int64_t NiahMinimumUnits(const NiahParams& params);

// One sample with a haystack of `units` (>= NiahMinimumUnits) lines or words.
TaskText ComposeNiah(const NiahParams& params, int64_t units, const RulerResources& resources,
                     SampleRandom& random);

// A random key or value: an adjective-noun pair, a seven-digit number or a UUID.
std::string RandomNeedlePart(NeedleType type, const RulerResources& resources,
                             SampleRandom& random);

// `words` cut into sentences after each word that ends a sentence ('.', '!' or '?',
// possibly followed by closing quotes or brackets); each sentence its words joined by
// single spaces.
std::vector<std::string> SplitSentences(const std::vector<std::string>& words);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_NIAH_H_

// SampleRandom: the random source of one RULER sample, the same on every platform.
//
// A sample is a pure function of (task, length, seed, index, tokenizer), so its random
// draws must not depend on the standard library: std::mt19937_64's output sequence is
// fixed by the C++ standard, but std::uniform_int_distribution and std::shuffle are
// not. This class draws integers from the engine's raw output by rejection and builds
// shuffles and samples from them.
//
//   SampleRandom random(SampleSeed(42, "niah_single_1", 4096, 7));
//   const int64_t digit = random.Uniform(0, 9);
#ifndef KVLAB_EVAL_RULER_SAMPLE_RANDOM_H_
#define KVLAB_EVAL_RULER_SAMPLE_RANDOM_H_

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvlab::ruler {

// The seed of one sample: `seed` mixed with the task's name, the context length and
// the sample's index (std::seed_seq, whose algorithm the standard fixes).
uint64_t SampleSeed(uint64_t seed, absl::string_view task, int64_t length, int64_t index);

class SampleRandom {
 public:
  explicit SampleRandom(uint64_t seed) : engine_(seed) {}

  // A uniform integer in [low, high]; requires low <= high.
  int64_t Uniform(int64_t low, int64_t high);
  // A uniform real in [0, 1).
  double UniformReal();
  // 64 uniform bits.
  uint64_t Bits() { return engine_(); }

  // Fisher-Yates, in place.
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (int64_t i = static_cast<int64_t>(items.size()) - 1; i > 0; --i) {
      std::swap(items[i], items[Uniform(0, i)]);
    }
  }

  // `count` distinct indices of [0, population), in random order (as Python's
  // random.sample draws them); requires count <= population.
  std::vector<int64_t> Sample(int64_t population, int64_t count);

 private:
  std::mt19937_64 engine_;
};

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_SAMPLE_RANDOM_H_

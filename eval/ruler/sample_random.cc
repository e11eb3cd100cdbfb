#include "eval/ruler/sample_random.h"

#include <cassert>
#include <limits>
#include <unordered_set>

namespace kvlab::ruler {

uint64_t SampleSeed(uint64_t seed, absl::string_view task, int64_t length, int64_t index) {
  std::vector<uint32_t> words = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                                 static_cast<uint32_t>(length),
                                 static_cast<uint32_t>(static_cast<uint64_t>(length) >> 32),
                                 static_cast<uint32_t>(index),
                                 static_cast<uint32_t>(static_cast<uint64_t>(index) >> 32)};
  for (const char c : task) words.push_back(static_cast<unsigned char>(c));
  std::seed_seq mixed(words.begin(), words.end());
  uint32_t out[2];
  mixed.generate(out, out + 2);
  return (static_cast<uint64_t>(out[0]) << 32) | out[1];
}

int64_t SampleRandom::Uniform(int64_t low, int64_t high) {
  assert(low <= high);
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (span == std::numeric_limits<uint64_t>::max()) return static_cast<int64_t>(engine_());
  const uint64_t range = span + 1;
  // Reject the top partial block of 2^64 so every value is equally likely.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         (std::numeric_limits<uint64_t>::max() % range + 1) % range;
  uint64_t draw = engine_();
  while (draw > limit) draw = engine_();
  return static_cast<int64_t>(static_cast<uint64_t>(low) + draw % range);
}

double SampleRandom::UniformReal() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

std::vector<int64_t> SampleRandom::Sample(int64_t population, int64_t count) {
  assert(0 <= count && count <= population);
  std::vector<int64_t> picked;
  picked.reserve(count);
  if (count * 4 > population) {
    // Dense: a partial Fisher-Yates over the whole population.
    std::vector<int64_t> pool(population);
    for (int64_t i = 0; i < population; ++i) pool[i] = i;
    for (int64_t i = 0; i < count; ++i) {
      std::swap(pool[i], pool[Uniform(i, population - 1)]);
      picked.push_back(pool[i]);
    }
    return picked;
  }
  // Sparse: draw until `count` distinct values came up.
  std::unordered_set<int64_t> seen;
  while (static_cast<int64_t>(picked.size()) < count) {
    const int64_t value = Uniform(0, population - 1);
    if (seen.insert(value).second) picked.push_back(value);
  }
  return picked;
}

}  // namespace kvlab::ruler

#include "eval/model/tiny_weights.h"

#include <vector>

#include "eval/gguf/gguf_writer.h"

namespace kvlab::model {

std::string TinyWeights::Random(int64_t count, float scale) {
  std::vector<float> values(count);
  for (float& v : values) v = normal_(rng_) * scale;
  return gguf::FloatBytes(values);
}

std::string TinyWeights::NearOne(int64_t count) {
  std::vector<float> values(count);
  for (float& v : values) v = 1.0f + 0.1f * normal_(rng_);
  return gguf::FloatBytes(values);
}

}  // namespace kvlab::model

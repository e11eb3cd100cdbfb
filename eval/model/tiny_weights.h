// Random fp32 weights for the tiny test models (tiny_llama.h, tiny_gemma3.h), as GGUF
// tensor bytes, drawn in call order from one seeded stream: a writer that asks for the
// same tensors in the same order writes the same file for the same seed.
#ifndef KVLAB_EVAL_MODEL_TINY_WEIGHTS_H_
#define KVLAB_EVAL_MODEL_TINY_WEIGHTS_H_

#include <cstdint>
#include <random>
#include <string>

namespace kvlab::model {

class TinyWeights {
 public:
  explicit TinyWeights(uint32_t seed) : rng_(seed) {}

  // `count` values drawn from N(0, scale²).
  std::string Random(int64_t count, float scale);
  // `count` values 1 + 0.1·N(0, 1): norm weights near the identity.
  std::string NearOne(int64_t count);

 private:
  std::mt19937 rng_;
  std::normal_distribution<float> normal_{0.0f, 1.0f};
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_TINY_WEIGHTS_H_

// RopeScaling: how a model stretches its rotary embedding's frequencies past the
// context it was first trained on, and the inverse frequencies that result.
//
//   RopeScaling scaling;  // Llama 3.1's config.json rope_scaling:
//   scaling.type = RopeScaling::Type::kLlama3;
//   scaling.factor = 8; scaling.low_freq_factor = 1; scaling.high_freq_factor = 4;
//   scaling.original_context = 8192;
//   KVLAB_ASSIGN_OR_RETURN(std::vector<double> inv_freq,
//                          RopeInverseFrequencies(500000.0, 128, scaling));
//   KVLAB_ASSIGN_OR_RETURN(RotaryEmbedding rope, RotaryEmbedding::WithFrequencies(
//                              128, std::move(inv_freq), RopeStyle::kInterleaved));
//
// The types are transformers' rope initialization functions (modeling_rope_utils.py),
// each of which leaves the attention scale at 1:
//   - linear (Gemma 3's global layers from 4B up): every frequency divided by factor;
//   - llama3 (Llama 3.1, 3.2): wavelengths 2π/f shorter than original_context /
//     high_freq_factor kept, longer than original_context / low_freq_factor divided by
//     factor, those between blended: s = (original_context / wavelength -
//     low_freq_factor) / (high_freq_factor - low_freq_factor), f' = (1 - s) f / factor
//     + s f.
// GGUF files carry llama3 scaling as per-pair divisors instead (the tensor
// rope_freqs.weight, which llama.cpp divides each base frequency by), and linear
// scaling as <arch>.rope.scaling.factor; the two compose as in llama.cpp.
#ifndef KVLAB_CORE_ROPE_SCALING_H_
#define KVLAB_CORE_ROPE_SCALING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kvlab {

struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;            // linear and llama3: > 0
  double low_freq_factor = 1.0;   // llama3: > 0
  double high_freq_factor = 4.0;  // llama3: > low_freq_factor
  double original_context = 8192;  // llama3: original_max_position_embeddings, > 0
  // One divisor per rotated pair (GGUF's rope_freqs.weight), applied on top of `type`;
  // empty: none.
  std::vector<double> frequency_divisors;
};

// The names config files give the types ("default" for kNone).
std::string RopeScalingTypeName(RopeScaling::Type type);

// Inverse frequencies of the rotary_dim / 2 rotated pairs: base^(-2i / rotary_dim)
// (in double), then scaled as `scaling` says. InvalidArgument when a parameter is out
// of its range or frequency_divisors is neither empty nor one per pair.
absl::StatusOr<std::vector<double>> RopeInverseFrequencies(double base, int64_t rotary_dim,
                                                           const RopeScaling& scaling);

}  // namespace kvlab

#endif  // KVLAB_CORE_ROPE_SCALING_H_

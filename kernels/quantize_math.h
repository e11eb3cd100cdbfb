// The quantization rule of kernels/integer_format.h for one group, as plain C++ shared
// by the CPU kernel and (via __host__ __device__) the CUDA kernel. Internal to
// kernels/.
#ifndef KVLAB_KERNELS_QUANTIZE_MATH_H_
#define KVLAB_KERNELS_QUANTIZE_MATH_H_

#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define KVLAB_HOST_DEVICE __host__ __device__
#else
#define KVLAB_HOST_DEVICE
#endif

namespace kvlab::kernels::internal {

struct GroupParams {
  float scale;  // As stored (already rounded to the storage dtype).
  float zero;   // As stored; 0 when symmetric.
};

// `round_to_storage` maps an fp32 value to the nearest value of the storage dtype.
// Mirrors QuantizeGroups(): zero = min rounded; scale = range / max_level (or
// absmax / (offset - 1)) rounded, nudged up one storage step if rounding lowered it.
template <typename Round>
KVLAB_HOST_DEVICE inline GroupParams ComputeGroupParams(float lo, float hi, float absmax, int bits,
                                                        bool symmetric, float relative_step,
                                                        Round round_to_storage) {
  GroupParams p;
  const float max_level = static_cast<float>((1 << bits) - 1);
  float exact;
  if (symmetric) {
    p.zero = 0.0f;
    exact = absmax / static_cast<float>((1 << (bits - 1)) - 1);
  } else {
    p.zero = round_to_storage(lo);
    const float range = hi - p.zero;
    exact = (range > 0.0f ? range : 0.0f) / max_level;
  }
  float rounded = round_to_storage(exact);
  if (rounded < exact) rounded = round_to_storage(exact * (1.0f + relative_step));
  p.scale = rounded;
  return p;
}

KVLAB_HOST_DEVICE inline uint8_t LevelOf(float x, const GroupParams& p, int bits, bool symmetric) {
  const float safe = p.scale > 0.0f ? p.scale : 1.0f;
  const float offset = symmetric ? static_cast<float>(1 << (bits - 1)) : 0.0f;
  float level = nearbyintf((symmetric ? x : x - p.zero) / safe) + offset;
  const float top = static_cast<float>((1 << bits) - 1);
  // Written so that a NaN level becomes 0 (a cast of NaN to an integer is undefined).
  level = !(level >= 0.0f) ? 0.0f : (level > top ? top : level);
  return static_cast<uint8_t>(level);
}

}  // namespace kvlab::kernels::internal

#endif  // KVLAB_KERNELS_QUANTIZE_MATH_H_

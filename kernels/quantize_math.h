// The quantization rule of kernels/integer_format.h for one group, as plain C++ shared
// by the CPU kernel and (via __host__ __device__) the CUDA kernel. Internal to
// kernels/.
#ifndef KVLAB_KERNELS_QUANTIZE_MATH_H_
#define KVLAB_KERNELS_QUANTIZE_MATH_H_

#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace kvlab::kernels::internal {

struct GroupParams {
  float scale;  // As stored (already rounded to the storage dtype).
  float zero;   // As stored; 0 when symmetric.
  // ggml rounding only: levels come from the fp32 values, before storage rounding
  // (ggml-quants.c, quantize_row_q4_0_ref / quantize_row_q4_1_ref).
  float origin = 0.0f;   // q4_1: the group's fp32 minimum; q4_0: 0.
  float inverse = 0.0f;  // 1 / fp32 d, or 0 when d is 0.
};

// What one pass over a group finds. `signed_max` is the first value of largest
// magnitude, sign kept (ggml's q4_0 scales by it).
struct GroupStats {
  float lo;
  float hi;
  float absmax;
  float signed_max;
};

KVLAB_HOST_DEVICE inline void AddToStats(float v, bool first, GroupStats* s) {
  if (first) {
    *s = GroupStats{v, v, fabsf(v), v};
    return;
  }
  s->lo = fminf(s->lo, v);
  s->hi = fmaxf(s->hi, v);
  // Strictly greater: a later value of equal magnitude does not replace the first.
  if (fabsf(v) > s->absmax) {
    s->absmax = fabsf(v);
    s->signed_max = v;
  }
}

// `round_to_storage` maps an fp32 value to the nearest value of the storage dtype.
// Mirrors QuantizeGroups(). Stored rounding: zero = min rounded; scale = range /
// max_level (or absmax / (offset - 1)) rounded, nudged up one storage step if rounding
// lowered it. ggml rounding (4 bits): q4_1 keeps d = (max - min) / 15 and min in fp32
// for the levels and stores them rounded; q4_0 takes d = signed_max / -8.
template <typename Round>
KVLAB_HOST_DEVICE inline GroupParams ComputeGroupParams(const GroupStats& s, int bits,
                                                        bool symmetric, bool ggml,
                                                        float relative_step,
                                                        Round round_to_storage) {
  GroupParams p;
  const float max_level = static_cast<float>((1 << bits) - 1);
  if (ggml) {
    const float d = symmetric ? s.signed_max / -static_cast<float>(1 << (bits - 1))
                              : (s.hi - s.lo) / max_level;
    p.inverse = d != 0.0f ? 1.0f / d : 0.0f;
    p.origin = symmetric ? 0.0f : s.lo;
    p.scale = round_to_storage(d);
    p.zero = symmetric ? 0.0f : round_to_storage(s.lo);
    return p;
  }
  float exact;
  if (symmetric) {
    p.zero = 0.0f;
    exact = s.absmax / static_cast<float>((1 << (bits - 1)) - 1);
  } else {
    p.zero = round_to_storage(s.lo);
    const float range = s.hi - p.zero;
    exact = (range > 0.0f ? range : 0.0f) / max_level;
  }
  float rounded = round_to_storage(exact);
  if (rounded < exact) rounded = round_to_storage(exact * (1.0f + relative_step));
  p.scale = rounded;
  return p;
}

// a * b, never fused with a following addition (nvcc fuses by default), so that the
// CUDA kernel rounds as the CPU kernel and the ATen reference do.
KVLAB_HOST_DEVICE inline float MultiplyUnfused(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

KVLAB_HOST_DEVICE inline uint8_t LevelOf(float x, const GroupParams& p, int bits, bool symmetric,
                                         bool ggml) {
  const float offset = symmetric ? static_cast<float>(1 << (bits - 1)) : 0.0f;
  float level;
  if (ggml) {
    // ggml's (int8_t)(x * id + offset + 0.5f): the argument is >= 0 up to rounding,
    // where truncation is floor.
    level = floorf(MultiplyUnfused(x - p.origin, p.inverse) + (offset + 0.5f));
  } else {
    const float safe = p.scale > 0.0f ? p.scale : 1.0f;
    level = nearbyintf((symmetric ? x : x - p.zero) / safe) + offset;
  }
  const float top = static_cast<float>((1 << bits) - 1);
  // Written so that a NaN level becomes 0 (a cast of NaN to an integer is undefined).
  level = !(level >= 0.0f) ? 0.0f : (level > top ? top : level);
  return static_cast<uint8_t>(level);
}

}  // namespace kvlab::kernels::internal

#endif  // KVLAB_KERNELS_QUANTIZE_MATH_H_

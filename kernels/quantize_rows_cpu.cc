#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/quantize_math.h"
#include "kernels/quantize_job.h"

namespace kvlab::kernels::internal {

namespace {

template <typename S>
float RoundToStorage(float x) {
  return static_cast<float>(S(x));
}

template <typename S>
float RelativeStep() {
  if (std::is_same_v<S, c10::BFloat16>) return 1.0f / 128;
  if (std::is_same_v<S, c10::Half>) return 1.0f / 1024;
  return 0.0f;
}

// Quantizes `count` values x[i * stride]; writes level i through `put(i, level)`.
template <typename S, typename Put>
GroupParams QuantizeGroup(const float* x, int64_t count, int64_t stride, int bits, bool symmetric,
                          bool ggml, Put put) {
  GroupStats stats{};
  for (int64_t i = 0; i < count; ++i) AddToStats(x[i * stride], i == 0, &stats);
  const GroupParams p = ComputeGroupParams(stats, bits, symmetric, ggml, RelativeStep<S>(),
                                           RoundToStorage<S>);
  for (int64_t i = 0; i < count; ++i) put(i, LevelOf(x[i * stride], p, bits, symmetric, ggml));
  return p;
}

// Writes level `level` of channel c into a packed row (IntegerFormat's packing).
inline void PutLevel(uint8_t* row, int bits, int64_t c, uint8_t level) {
  if (bits == 8) {
    row[c] = level;
    return;
  }
  const int per_byte = 8 / bits;
  const int shift = static_cast<int>(c % per_byte) * bits;
  const int mask = ((1 << bits) - 1) << shift;
  uint8_t& byte = row[c / per_byte];
  byte = static_cast<uint8_t>((byte & ~mask) | (level << shift));
}

template <typename S>
void Quantize(const QuantizeJob& job) {
  const QuantizedRows& a = job.out;
  const int bits = BitsOf(a.encoding);
  const bool symmetric = job.symmetric();
  const int64_t packed = (a.dim * bits + 7) / 8;
  uint8_t* levels = static_cast<uint8_t*>(a.data);
  S* scale = static_cast<S*>(a.scale);
  S* zero = static_cast<S*>(a.zero);
  if (!job.per_channel) {
    const int64_t rows = a.heads * a.tokens;
    const int64_t groups = a.dim / a.group;
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        uint8_t* row = levels + r * packed;
        std::fill(row, row + packed, 0);
        for (int64_t g = 0; g < groups; ++g) {
          const GroupParams p = QuantizeGroup<S>(
              job.x + r * a.dim + g * a.group, a.group, 1, bits, symmetric, job.ggml,
              [&](int64_t i, uint8_t level) { PutLevel(row, bits, g * a.group + i, level); });
          scale[r * groups + g] = S(p.scale);
          if (zero != nullptr) zero[r * groups + g] = S(p.zero);
        }
      }
    });
    return;
  }
  // Per channel: one group per (head, channel) over the block's tokens. Channels of a
  // head share bytes when packed, so a head is one task.
  std::fill(levels, levels + a.heads * a.tokens * packed, 0);
  at::parallel_for(0, a.heads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) {
      for (int64_t c = 0; c < a.dim; ++c) {
        const GroupParams p = QuantizeGroup<S>(
            job.x + h * a.tokens * a.dim + c, a.tokens, a.dim, bits, symmetric, job.ggml,
            [&](int64_t t, uint8_t level) {
              PutLevel(levels + (h * a.tokens + t) * packed, bits, c, level);
            });
        scale[h * a.dim + c] = S(p.scale);
        if (zero != nullptr) zero[h * a.dim + c] = S(p.zero);
      }
    }
  });
}

}  // namespace

void QuantizeCpu(const QuantizeJob& job) {
  switch (job.out.scale_encoding) {
    case Encoding::kFloat32: Quantize<float>(job); break;
    case Encoding::kBFloat16: Quantize<c10::BFloat16>(job); break;
    case Encoding::kFloat16: Quantize<c10::Half>(job); break;
    default: break;  // Scales are floats (cache_views.cc checks).
  }
}

}  // namespace kvlab::kernels::internal

#include "eval/safetensors/half_bytes.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cstring>

namespace kvlab::safetensors {

namespace {

template <typename T>
std::string Bytes(const std::vector<float>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const T value(values[i]);
    std::memcpy(out.data() + i * sizeof(T), &value, sizeof(T));
  }
  return out;
}

}  // namespace

std::string BF16Bytes(const std::vector<float>& values) { return Bytes<c10::BFloat16>(values); }
std::string F16Bytes(const std::vector<float>& values) { return Bytes<c10::Half>(values); }

}  // namespace kvlab::safetensors

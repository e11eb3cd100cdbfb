// Raw BF16 and F16 storage of float values, for tests and tiny models that write
// half-precision safetensors (LibTorch's c10 types do the rounding: nearest even).
#ifndef KVLAB_EVAL_SAFETENSORS_HALF_BYTES_H_
#define KVLAB_EVAL_SAFETENSORS_HALF_BYTES_H_

#include <string>
#include <vector>

namespace kvlab::safetensors {

std::string BF16Bytes(const std::vector<float>& values);
std::string F16Bytes(const std::vector<float>& values);

}  // namespace kvlab::safetensors

#endif  // KVLAB_EVAL_SAFETENSORS_HALF_BYTES_H_

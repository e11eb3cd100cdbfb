// SafetensorsWriter: builds safetensors files in memory, for tests and tiny models.
//
//   SafetensorsWriter writer;
//   writer.AddTensor("model.norm.weight", "F32", {16}, raw_bytes);
//   KVLAB_RETURN_IF_ERROR(writer.WriteFile(path));
//
// Tensors are laid out in the order added; the header is padded with spaces to a
// multiple of 8 bytes, as the format's reference writer does. The writer does not
// validate what it is given, so tests can also build malformed files on purpose.
#ifndef KVLAB_EVAL_SAFETENSORS_SAFETENSORS_WRITER_H_
#define KVLAB_EVAL_SAFETENSORS_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kvlab::safetensors {

class SafetensorsWriter {
 public:
  // `data` is the tensor's raw little-endian storage.
  void AddTensor(std::string name, std::string dtype, std::vector<int64_t> shape,
                 std::string data);
  void AddMetadata(std::string key, std::string value);

  // The header JSON text (unpadded) and the complete file.
  std::string HeaderJson() const;
  std::string Serialize() const;
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::string data;
  };
  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// A complete file with the given header text and data bytes (for malformed files).
std::string SafetensorsBytes(const std::string& header_json, const std::string& data);

// Raw storage of `values` as F32 (half-precision storage: half_bytes.h).
std::string F32Bytes(const std::vector<float>& values);

}  // namespace kvlab::safetensors

#endif  // KVLAB_EVAL_SAFETENSORS_SAFETENSORS_WRITER_H_

// GgufWriter: builds GGUF files in memory, for tests and tiny synthetic models.
//
//   GgufWriter writer;
//   writer.AddString("general.architecture", "llama");
//   writer.AddTensor("token_embd.weight", {8, 16}, TensorType::kF32, FloatBytes(values));
//   KVLAB_RETURN_IF_ERROR(writer.WriteFile(path));
//
// The writer does not validate what it is given, so tests can also build malformed
// files on purpose (see the *Override fields).
#ifndef KVLAB_EVAL_GGUF_GGUF_WRITER_H_
#define KVLAB_EVAL_GGUF_GGUF_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "eval/gguf/gguf_types.h"
#include "eval/gguf/gguf_value.h"

namespace kvlab::gguf {

class GgufWriter {
 public:
  void AddMetadata(std::string key, GgufValue value);
  void AddString(std::string key, std::string value);
  void AddUint32(std::string key, uint32_t value);
  void AddFloat32(std::string key, float value);
  void AddBool(std::string key, bool value);
  void AddStringArray(std::string key, const std::vector<std::string>& values);
  void AddInt32Array(std::string key, const std::vector<int32_t>& values);

  // `dims` in ggml order (innermost first); `data` is the tensor's raw storage.
  void AddTensor(std::string name, std::vector<int64_t> dims, TensorType type,
                 std::string data);
  // Same, with a type id that need not be a known TensorType.
  void AddTensorWithTypeId(std::string name, std::vector<int64_t> dims, uint32_t type_id,
                           std::string data);

  // The complete file.
  std::string Serialize() const;
  absl::Status WriteFile(const std::string& path) const;

  uint32_t version = 3;
  uint32_t alignment = 32;
  // Overrides for building malformed files.
  std::optional<uint32_t> magic_override;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t type_id;
    std::string data;
  };
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

// The raw little-endian bytes of `values` as F32 storage.
std::string FloatBytes(const std::vector<float>& values);

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_WRITER_H_

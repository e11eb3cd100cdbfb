// GgufFile: a memory-mapped GGUF model file (versions 2 and 3).
//
// Open() maps the file once and parses the header, every metadata key/value pair
// (arrays included) and every tensor description, validating each tensor's extent
// against the file size. Tensor bytes stay in the mapping until a caller reads them
// (see gguf_tensor.h), so nothing is read twice.
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
//   KVLAB_ASSIGN_OR_RETURN(int64_t layers, file->GetInt("llama.block_count"));
//
// Errors name the file and the problem: a truncated file, bad magic, an unsupported
// version, an unknown value or tensor type, a misaligned or out-of-bounds tensor.
// A GgufFile is immutable after Open() and safe to read from several threads.
#ifndef KVLAB_EVAL_GGUF_GGUF_FILE_H_
#define KVLAB_EVAL_GGUF_GGUF_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/mapped_file.h"
#include "eval/gguf/gguf_types.h"
#include "eval/gguf/gguf_value.h"

namespace kvlab::gguf {

// Description of one tensor stored in the file.
struct TensorInfo {
  std::string name;
  // ggml order: dims[0] is the innermost (contiguous) dimension. A PyTorch weight of
  // shape [out, in] is stored with dims = {in, out}.
  std::vector<int64_t> dims;
  TensorType type;
  // Byte range of the tensor's data within the file.
  uint64_t file_offset = 0;
  uint64_t byte_size = 0;

  int64_t NumElements() const;
  // True if the product of dims exceeds `limit`.
  bool NumElementsOverflows(uint64_t limit) const;
  // dims reversed: the row-major (PyTorch) shape.
  std::vector<int64_t> TorchShape() const;
};

class GgufFile {
 public:
  // Maps and parses `path`. Fails with NotFound if it cannot be opened, DataLoss if it
  // is truncated or malformed, and Unimplemented for an unsupported version.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses GGUF bytes already in memory, as Open() parses a file; `name` stands for
  // the path in messages. The file refers to `bytes`, which must outlive it.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBytes(const std::string& name,
                                                             absl::Span<const uint8_t> bytes);

  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  // Metadata keys in file order.
  const std::vector<std::string>& metadata_keys() const { return metadata_keys_; }
  // Returns the value of `key`, or nullptr if absent.
  const GgufValue* FindMetadata(absl::string_view key) const;

  // Typed lookups; a missing key or a wrong type is an error naming the file and key.
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
  absl::StatusOr<double> GetDouble(absl::string_view key) const;
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetStringArray(absl::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntArray(absl::string_view key) const;
  absl::StatusOr<std::vector<double>> GetDoubleArray(absl::string_view key) const;

  // Tensors in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // Returns the named tensor, or NotFound naming the file.
  absl::StatusOr<const TensorInfo*> FindTensor(absl::string_view name) const;
  // The raw bytes of a tensor of this file, inside the mapping.
  absl::Span<const uint8_t> TensorBytes(const TensorInfo& tensor) const;

 private:
  GgufFile() = default;
  // Parses the mapped bytes; errors name the file.
  absl::Status Parse();
  // Parse's steps, in file order: header, metadata, tensor infos, data offsets.
  absl::Status ReadContents();

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  MappedFile mapping_;  // Holds data_ when opened from a path; empty from FromBytes.
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::string> metadata_keys_;
  absl::flat_hash_map<std::string, GgufValue> metadata_;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace kvlab::gguf

#endif  // KVLAB_EVAL_GGUF_GGUF_FILE_H_

// SafetensorsFile: a memory-mapped safetensors file (Hugging Face's weight format).
//
// The format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON mapping each tensor name to its dtype, shape and
// [begin, end) byte range within the data that follows, and an optional
// "__metadata__" object of strings. Open() maps the file once and validates the whole
// header against the file: every range inside the data, no two overlapping, no byte
// of the data left to no tensor, each range exactly shape × dtype bytes. Tensor bytes
// stay in the mapping until a caller reads them (safetensors_tensor.h), so nothing is
// read twice.
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path));
//   KVLAB_ASSIGN_OR_RETURN(const SafetensorsTensor* t, file->FindTensor("lm_head.weight"));
//
// Errors are one line naming the file and the problem (DataLoss for a malformed file).
// A SafetensorsFile is immutable after Open() and safe to read from several threads.
#ifndef KVLAB_EVAL_SAFETENSORS_SAFETENSORS_FILE_H_
#define KVLAB_EVAL_SAFETENSORS_SAFETENSORS_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/mapped_file.h"

namespace kvlab::safetensors {

// The element types the format defines. kvlab loads kF32, kF16 and kBF16 as weights;
// the others are parsed (their sizes are checked) and refused when loaded.
enum class Dtype { kBool, kU8, kI8, kF8E4M3, kF8E5M2, kI16, kU16, kF16, kBF16, kI32, kU32,
                   kF32, kI64, kU64, kF64 };

// The dtype named `name` in a header ("F32", "BF16", ...), if the format defines it.
std::optional<Dtype> ParseDtype(absl::string_view name);
// The header's name of `dtype`.
absl::string_view DtypeName(Dtype dtype);
// Bytes per element.
int DtypeBytes(Dtype dtype);

struct SafetensorsTensor {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<int64_t> shape;  // Row-major, as PyTorch writes it.
  // Byte range within the data section (after the header).
  uint64_t begin = 0;
  uint64_t end = 0;

  int64_t NumElements() const;
};

class SafetensorsFile {
 public:
  // Headers larger than this are refused (as the format's reference reader does).
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  // Maps and parses `path`. NotFound if it cannot be opened, DataLoss if malformed.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // Parses bytes already in memory, as Open() parses a file; `name` stands for the
  // path in messages. The file refers to `bytes`, which must outlive it.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> FromBytes(
      const std::string& name, absl::Span<const uint8_t> bytes);

  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  // Tensors in the order of their data.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  // The "__metadata__" strings (empty if the header has none).
  const absl::flat_hash_map<std::string, std::string>& metadata() const { return metadata_; }
  // The named tensor, or nullptr.
  const SafetensorsTensor* FindTensor(absl::string_view name) const;
  // The raw little-endian bytes of a tensor of this file, inside the mapping.
  absl::Span<const uint8_t> TensorBytes(const SafetensorsTensor& tensor) const;

 private:
  SafetensorsFile() = default;
  absl::Status Parse();

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  MappedFile mapping_;  // Holds data_ when opened from a path; empty from FromBytes.
  uint64_t data_offset_ = 0;  // Where the data section starts: 8 + header length.
  std::vector<SafetensorsTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  absl::flat_hash_map<std::string, std::string> metadata_;
};

}  // namespace kvlab::safetensors

#endif  // KVLAB_EVAL_SAFETENSORS_SAFETENSORS_FILE_H_

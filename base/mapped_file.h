// A read-only file mapped into memory, for the model loaders that index into their
// files (GGUF, safetensors) rather than read them into buffers.
//
//   KVLAB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path, "GGUF file"));
//   absl::Span<const uint8_t> bytes = file.bytes();  // Valid while `file` lives.
#ifndef KVLAB_BASE_MAPPED_FILE_H_
#define KVLAB_BASE_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kvlab {

// MappedFile
//
// Owns one private, read-only mapping of a whole regular file and unmaps it when
// destroyed. Move-only; a moved-from or default-constructed MappedFile holds no bytes.
// The file descriptor is closed at once: the mapping alone keeps the file alive, so
// the path may be removed while the bytes are in use. An empty file maps to no bytes.
class MappedFile {
 public:
  // Maps `path`. `what` names the kind of file in errors ("GGUF file"): NotFound
  // "<path>: cannot open <what>: <reason>" when it cannot be opened,
  // InvalidArgument "<path>: not a regular file" for a directory or a device, and
  // Internal naming the path if the mapping itself fails.
  static absl::StatusOr<MappedFile> Open(const std::string& path, absl::string_view what);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // The file's bytes; empty for an empty file.
  absl::Span<const uint8_t> bytes() const { return absl::Span<const uint8_t>(data_, size_); }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  void Unmap();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kvlab

#endif  // KVLAB_BASE_MAPPED_FILE_H_

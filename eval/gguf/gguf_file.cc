#include "eval/gguf/gguf_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/mapped_file.h"
#include "base/status_macros.h"

namespace kvlab::gguf {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32.
constexpr int kMaxDims = 4;              // GGML_MAX_DIMS.
// Arrays may nest; real files use one level. The bound stops malicious recursion.
constexpr int kMaxArrayDepth = 8;
// No real tensor comes near this; the bound keeps element counts from overflowing.
constexpr uint64_t kMaxElements = uint64_t{1} << 48;

// Sequential little-endian reader over the mapped bytes. Every read is bounds-checked;
// a read past the end fails with DataLoss describing what was being read.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return size_ - offset_; }

  template <typename T>
  absl::StatusOr<T> Read(absl::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(what, sizeof(T));
    T value;
    std::memcpy(&value, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  absl::StatusOr<std::string> ReadString(absl::string_view what) {
    KVLAB_ASSIGN_OR_RETURN(const uint64_t length, Read<uint64_t>(what));
    if (remaining() < length) return Truncated(what, length);
    std::string value(reinterpret_cast<const char*>(data_ + offset_), length);
    offset_ += length;
    return value;
  }

 private:
  absl::Status Truncated(absl::string_view what, uint64_t wanted) const {
    return absl::DataLossError(absl::StrFormat(
        "truncated: %s needs %d bytes at offset %d, but only %d remain", what, wanted,
        offset_, remaining()));
  }

  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

absl::StatusOr<GgufValue> ReadValue(Cursor& cursor, uint32_t type_tag, const std::string& key,
                                    int depth) {
  if (!ValueTypeName(type_tag).has_value()) {
    return absl::DataLossError(
        absl::StrFormat("metadata key '%s' has unknown value type %d", key, type_tag));
  }
  const std::string what = absl::StrCat("value of metadata key '", key, "'");
  switch (static_cast<ValueType>(type_tag)) {
    case ValueType::kUint8: {
      KVLAB_ASSIGN_OR_RETURN(const uint8_t v, cursor.Read<uint8_t>(what));
      return GgufValue::Unsigned(ValueType::kUint8, v);
    }
    case ValueType::kInt8: {
      KVLAB_ASSIGN_OR_RETURN(const int8_t v, cursor.Read<int8_t>(what));
      return GgufValue::Signed(ValueType::kInt8, v);
    }
    case ValueType::kUint16: {
      KVLAB_ASSIGN_OR_RETURN(const uint16_t v, cursor.Read<uint16_t>(what));
      return GgufValue::Unsigned(ValueType::kUint16, v);
    }
    case ValueType::kInt16: {
      KVLAB_ASSIGN_OR_RETURN(const int16_t v, cursor.Read<int16_t>(what));
      return GgufValue::Signed(ValueType::kInt16, v);
    }
    case ValueType::kUint32: {
      KVLAB_ASSIGN_OR_RETURN(const uint32_t v, cursor.Read<uint32_t>(what));
      return GgufValue::Unsigned(ValueType::kUint32, v);
    }
    case ValueType::kInt32: {
      KVLAB_ASSIGN_OR_RETURN(const int32_t v, cursor.Read<int32_t>(what));
      return GgufValue::Signed(ValueType::kInt32, v);
    }
    case ValueType::kUint64: {
      KVLAB_ASSIGN_OR_RETURN(const uint64_t v, cursor.Read<uint64_t>(what));
      return GgufValue::Unsigned(ValueType::kUint64, v);
    }
    case ValueType::kInt64: {
      KVLAB_ASSIGN_OR_RETURN(const int64_t v, cursor.Read<int64_t>(what));
      return GgufValue::Signed(ValueType::kInt64, v);
    }
    case ValueType::kFloat32: {
      KVLAB_ASSIGN_OR_RETURN(const float v, cursor.Read<float>(what));
      return GgufValue::Float(ValueType::kFloat32, v);
    }
    case ValueType::kFloat64: {
      KVLAB_ASSIGN_OR_RETURN(const double v, cursor.Read<double>(what));
      return GgufValue::Float(ValueType::kFloat64, v);
    }
    case ValueType::kBool: {
      KVLAB_ASSIGN_OR_RETURN(const uint8_t v, cursor.Read<uint8_t>(what));
      if (v > 1) {
        return absl::DataLossError(
            absl::StrFormat("metadata key '%s' has bool byte %d (expected 0 or 1)", key, v));
      }
      return GgufValue::Bool(v != 0);
    }
    case ValueType::kString: {
      KVLAB_ASSIGN_OR_RETURN(std::string v, cursor.ReadString(what));
      return GgufValue::String(std::move(v));
    }
    case ValueType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return absl::DataLossError(absl::StrFormat(
            "metadata key '%s' nests arrays deeper than %d", key, kMaxArrayDepth));
      }
      KVLAB_ASSIGN_OR_RETURN(const uint32_t element_tag, cursor.Read<uint32_t>(what));
      KVLAB_ASSIGN_OR_RETURN(const uint64_t count, cursor.Read<uint64_t>(what));
      // Every element takes at least one byte: a larger count is a lie, not a request
      // to allocate.
      if (count > cursor.remaining()) {
        return absl::DataLossError(absl::StrFormat(
            "truncated: metadata key '%s' claims %d array elements but only %d bytes remain",
            key, count, cursor.remaining()));
      }
      GgufValue::Array elements;
      elements.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        KVLAB_ASSIGN_OR_RETURN(GgufValue element,
                               ReadValue(cursor, element_tag, key, depth + 1));
        elements.push_back(std::move(element));
      }
      return GgufValue::MakeArray(static_cast<ValueType>(element_tag), std::move(elements));
    }
  }
  return absl::InternalError("unreachable value type");
}

// The fixed header: magic, version and the two counts.
struct Header {
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  uint64_t metadata_count = 0;
};

absl::StatusOr<Header> ReadHeader(Cursor& cursor) {
  KVLAB_ASSIGN_OR_RETURN(const uint32_t magic, cursor.Read<uint32_t>("magic"));
  if (magic != kMagic) {
    char got[5] = {0};
    std::memcpy(got, &magic, 4);  // The file's first four bytes, as read.
    for (int i = 0; i < 4; ++i) {
      if (got[i] < 32 || got[i] > 126) got[i] = '?';
    }
    return absl::DataLossError(
        absl::StrFormat("bad magic '%s' (expected 'GGUF'): not a GGUF file", got));
  }
  Header header;
  KVLAB_ASSIGN_OR_RETURN(header.version, cursor.Read<uint32_t>("version"));
  if (header.version != 2 && header.version != 3) {
    return absl::UnimplementedError(
        absl::StrFormat("unsupported GGUF version %d (supported: 2, 3)", header.version));
  }
  KVLAB_ASSIGN_OR_RETURN(header.tensor_count, cursor.Read<uint64_t>("tensor count"));
  KVLAB_ASSIGN_OR_RETURN(header.metadata_count, cursor.Read<uint64_t>("metadata count"));
  // Each entry takes more than eight bytes, so larger counts cannot be honest.
  if (header.tensor_count > cursor.remaining() / 8 ||
      header.metadata_count > cursor.remaining() / 8) {
    return absl::DataLossError(absl::StrFormat(
        "truncated: header claims %d tensors and %d metadata entries but only %d bytes follow",
        header.tensor_count, header.metadata_count, cursor.remaining()));
  }
  return header;
}

// Reads `count` key-value pairs into `keys` (in file order) and `metadata`.
absl::Status ReadMetadata(Cursor& cursor, uint64_t count, std::vector<std::string>& keys,
                          absl::flat_hash_map<std::string, GgufValue>& metadata) {
  for (uint64_t i = 0; i < count; ++i) {
    KVLAB_ASSIGN_OR_RETURN(std::string key,
                           cursor.ReadString(absl::StrFormat("metadata key #%d", i)));
    KVLAB_ASSIGN_OR_RETURN(const uint32_t tag,
                           cursor.Read<uint32_t>(absl::StrCat("type of key '", key, "'")));
    KVLAB_ASSIGN_OR_RETURN(GgufValue value, ReadValue(cursor, tag, key, /*depth=*/0));
    if (metadata.contains(key)) {
      return absl::DataLossError(absl::StrFormat("duplicate metadata key '%s'", key));
    }
    keys.push_back(key);
    metadata.emplace(std::move(key), std::move(value));
  }
  return absl::OkStatus();
}

// The value of general.alignment, which must be a positive power of two.
absl::StatusOr<uint64_t> CheckAlignment(const GgufValue& alignment) {
  absl::StatusOr<int64_t> value = alignment.AsInt();
  if (!value.ok() || *value <= 0 || (*value & (*value - 1)) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "general.alignment must be a positive power of two, got %s", alignment.DebugString()));
  }
  return static_cast<uint64_t>(*value);
}

// Reads the `i`th tensor's name, shape, type and data offset (relative to the data
// section, which must be a multiple of `alignment`), and works out its byte size.
absl::StatusOr<TensorInfo> ReadTensorInfo(Cursor& cursor, uint64_t i, uint64_t alignment) {
  TensorInfo info;
  KVLAB_ASSIGN_OR_RETURN(info.name, cursor.ReadString(absl::StrFormat("tensor name #%d", i)));
  const std::string what = absl::StrCat("info of tensor '", info.name, "'");
  KVLAB_ASSIGN_OR_RETURN(const uint32_t n_dims, cursor.Read<uint32_t>(what));
  if (n_dims < 1 || n_dims > kMaxDims) {
    return absl::DataLossError(absl::StrFormat(
        "tensor '%s' has %d dimensions (expected 1 to %d)", info.name, n_dims, kMaxDims));
  }
  for (uint32_t d = 0; d < n_dims; ++d) {
    KVLAB_ASSIGN_OR_RETURN(const uint64_t dim, cursor.Read<uint64_t>(what));
    if (dim == 0 || dim > kMaxElements) {
      return absl::DataLossError(
          absl::StrFormat("tensor '%s' has dimension %d of size %d", info.name, d, dim));
    }
    info.dims.push_back(static_cast<int64_t>(dim));
  }
  if (info.NumElementsOverflows(kMaxElements)) {
    return absl::DataLossError(
        absl::StrFormat("tensor '%s' has more than %d elements", info.name, kMaxElements));
  }
  KVLAB_ASSIGN_OR_RETURN(const uint32_t type_id, cursor.Read<uint32_t>(what));
  const std::optional<TensorTypeTraits> traits = GetTensorTypeTraits(type_id);
  if (!traits.has_value()) {
    return absl::DataLossError(
        absl::StrFormat("tensor '%s' has unknown tensor type %d", info.name, type_id));
  }
  info.type = static_cast<TensorType>(type_id);
  if (info.dims[0] % traits->block_elements != 0) {
    return absl::DataLossError(absl::StrFormat(
        "tensor '%s' of type %s has %d elements per row, not a multiple of its block size %d",
        info.name, traits->name, info.dims[0], traits->block_elements));
  }
  info.byte_size =
      static_cast<uint64_t>(info.NumElements() / traits->block_elements * traits->block_bytes);
  KVLAB_ASSIGN_OR_RETURN(info.file_offset, cursor.Read<uint64_t>(what));
  if (info.file_offset % alignment != 0) {
    return absl::DataLossError(
        absl::StrFormat("tensor '%s' data offset %d is not a multiple of alignment %d",
                        info.name, info.file_offset, alignment));
  }
  return info;
}

}  // namespace

int64_t TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

bool TensorInfo::NumElementsOverflows(uint64_t limit) const {
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (static_cast<uint64_t>(d) > limit / n) return true;
    n *= static_cast<uint64_t>(d);
  }
  return false;
}

std::vector<int64_t> TensorInfo::TorchShape() const {
  return std::vector<int64_t>(dims.rbegin(), dims.rend());
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  KVLAB_ASSIGN_OR_RETURN(file->mapping_, MappedFile::Open(path, "GGUF file"));
  file->data_ = file->mapping_.bytes().data();
  file->size_ = file->mapping_.bytes().size();
  KVLAB_RETURN_IF_ERROR(file->Parse());
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBytes(const std::string& name,
                                                               absl::Span<const uint8_t> bytes) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = name;
  file->data_ = bytes.empty() ? nullptr : bytes.data();
  file->size_ = bytes.size();
  KVLAB_RETURN_IF_ERROR(file->Parse());
  return file;
}

absl::Status GgufFile::Parse() {
  // Every step's error is prefixed with the file name once, here, keeping its code.
  return Annotate(ReadContents(), path_);
}

absl::Status GgufFile::ReadContents() {
  Cursor cursor(data_, size_);
  KVLAB_ASSIGN_OR_RETURN(const Header header, ReadHeader(cursor));
  version_ = header.version;
  KVLAB_RETURN_IF_ERROR(ReadMetadata(cursor, header.metadata_count, metadata_keys_, metadata_));
  if (const GgufValue* alignment = FindMetadata("general.alignment")) {
    KVLAB_ASSIGN_OR_RETURN(alignment_, CheckAlignment(*alignment));
  }
  tensors_.reserve(header.tensor_count);
  for (uint64_t i = 0; i < header.tensor_count; ++i) {
    KVLAB_ASSIGN_OR_RETURN(TensorInfo info, ReadTensorInfo(cursor, i, alignment_));
    if (tensor_index_.contains(info.name)) {
      return absl::DataLossError(absl::StrFormat("duplicate tensor name '%s'", info.name));
    }
    tensor_index_.emplace(info.name, tensors_.size());
    tensors_.push_back(std::move(info));
  }
  // The data section starts at the first aligned offset after the tensor infos; each
  // tensor's offset becomes absolute, and its bytes must lie inside the file.
  const uint64_t data_start = (cursor.offset() + alignment_ - 1) / alignment_ * alignment_;
  for (TensorInfo& info : tensors_) {
    info.file_offset += data_start;
    if (info.file_offset > size_ || info.byte_size > size_ - info.file_offset) {
      return absl::DataLossError(absl::StrFormat(
          "truncated: tensor '%s' needs bytes [%d, %d) but the file has %d bytes", info.name,
          info.file_offset, info.file_offset + info.byte_size, size_));
    }
  }
  return absl::OkStatus();
}

const GgufValue* GgufFile::FindMetadata(absl::string_view key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

namespace {

// Looks up `key` and converts it with `convert`, naming file and key in any error.
template <typename Convert>
auto GetAs(const GgufFile& file, absl::string_view key, Convert convert)
    -> decltype(convert(std::declval<const GgufValue&>())) {
  const GgufValue* value = file.FindMetadata(key);
  if (value == nullptr) {
    return absl::NotFoundError(
        absl::StrFormat("%s: metadata key '%s' is missing", file.path(), key));
  }
  auto result = convert(*value);
  if (!result.ok()) {
    return Annotate(result.status(),
                    absl::StrFormat("%s: metadata key '%s'", file.path(), key));
  }
  return result;
}

}  // namespace

absl::StatusOr<int64_t> GgufFile::GetInt(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) { return v.AsInt(); });
}

absl::StatusOr<double> GgufFile::GetDouble(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) { return v.AsDouble(); });
}

absl::StatusOr<bool> GgufFile::GetBool(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) { return v.AsBool(); });
}

absl::StatusOr<std::string> GgufFile::GetString(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) { return v.AsString(); });
}

absl::StatusOr<std::vector<std::string>> GgufFile::GetStringArray(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) -> absl::StatusOr<std::vector<std::string>> {
    KVLAB_ASSIGN_OR_RETURN(const GgufValue::Array* array, v.AsArray());
    std::vector<std::string> out;
    out.reserve(array->size());
    for (const GgufValue& element : *array) {
      KVLAB_ASSIGN_OR_RETURN(std::string s, element.AsString());
      out.push_back(std::move(s));
    }
    return out;
  });
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) -> absl::StatusOr<std::vector<int64_t>> {
    KVLAB_ASSIGN_OR_RETURN(const GgufValue::Array* array, v.AsArray());
    std::vector<int64_t> out;
    out.reserve(array->size());
    for (const GgufValue& element : *array) {
      KVLAB_ASSIGN_OR_RETURN(const int64_t i, element.AsInt());
      out.push_back(i);
    }
    return out;
  });
}

absl::StatusOr<std::vector<double>> GgufFile::GetDoubleArray(absl::string_view key) const {
  return GetAs(*this, key, [](const GgufValue& v) -> absl::StatusOr<std::vector<double>> {
    KVLAB_ASSIGN_OR_RETURN(const GgufValue::Array* array, v.AsArray());
    std::vector<double> out;
    out.reserve(array->size());
    for (const GgufValue& element : *array) {
      KVLAB_ASSIGN_OR_RETURN(const double d, element.AsDouble());
      out.push_back(d);
    }
    return out;
  });
}

absl::StatusOr<const TensorInfo*> GgufFile::FindTensor(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) {
    return absl::NotFoundError(absl::StrFormat("%s: no tensor named '%s'", path_, name));
  }
  return &tensors_[it->second];
}

absl::Span<const uint8_t> GgufFile::TensorBytes(const TensorInfo& tensor) const {
  return absl::Span<const uint8_t>(data_ + tensor.file_offset, tensor.byte_size);
}

}  // namespace kvlab::gguf

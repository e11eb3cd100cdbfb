#include "eval/safetensors/safetensors_file.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/json_text.h"
#include "base/mapped_file.h"
#include "base/status_macros.h"

namespace kvlab::safetensors {

namespace {

struct DtypeEntry {
  Dtype dtype;
  const char* name;
  int bytes;
};

constexpr DtypeEntry kDtypes[] = {
    {Dtype::kBool, "BOOL", 1},       {Dtype::kU8, "U8", 1},     {Dtype::kI8, "I8", 1},
    {Dtype::kF8E4M3, "F8_E4M3", 1},  {Dtype::kF8E5M2, "F8_E5M2", 1},
    {Dtype::kI16, "I16", 2},         {Dtype::kU16, "U16", 2},   {Dtype::kF16, "F16", 2},
    {Dtype::kBF16, "BF16", 2},       {Dtype::kI32, "I32", 4},   {Dtype::kU32, "U32", 4},
    {Dtype::kF32, "F32", 4},         {Dtype::kI64, "I64", 8},   {Dtype::kU64, "U64", 8},
    {Dtype::kF64, "F64", 8},
};

const DtypeEntry& Entry(Dtype dtype) {
  for (const DtypeEntry& e : kDtypes) {
    if (e.dtype == dtype) return e;
  }
  return kDtypes[0];  // Unreachable: every Dtype has an entry.
}

// Elements of `shape`, or nullopt if a dim is negative or the product passes 2^62.
std::optional<uint64_t> CountElements(const std::vector<int64_t>& shape) {
  uint64_t count = 1;
  for (const int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && count > (uint64_t{1} << 62) / static_cast<uint64_t>(dim)) return std::nullopt;
    count *= static_cast<uint64_t>(dim);
  }
  return count;
}

// A JSON number that is a whole number >= 0 (as the header's shapes and offsets are).
std::optional<uint64_t> AsCount(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return value.get<int64_t>();
  return std::nullopt;
}

// One tensor's entry of the header: {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}.
absl::StatusOr<SafetensorsTensor> ReadTensorEntry(const std::string& name,
                                                  const nlohmann::json& entry) {
  if (!entry.is_object()) {
    return absl::DataLossError(
        absl::StrFormat("tensor '%s' is a JSON %s, not an object", name, JsonTypeName(entry)));
  }
  SafetensorsTensor t;
  t.name = name;
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) {
    return absl::DataLossError(absl::StrFormat("tensor '%s' has no dtype string", name));
  }
  const std::optional<Dtype> parsed = ParseDtype(dtype->get<std::string>());
  if (!parsed.has_value()) {
    return absl::DataLossError(absl::StrFormat("tensor '%s' has unknown dtype '%s'", name,
                                               dtype->get<std::string>()));
  }
  t.dtype = *parsed;
  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) {
    return absl::DataLossError(absl::StrFormat("tensor '%s' has no shape array", name));
  }
  for (const nlohmann::json& dim : *shape) {
    const std::optional<uint64_t> size = AsCount(dim);
    if (!size.has_value() || *size > (uint64_t{1} << 62)) {
      return absl::DataLossError(
          absl::StrFormat("tensor '%s' has a shape entry that is not a size", name));
    }
    t.shape.push_back(static_cast<int64_t>(*size));
  }
  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !AsCount((*offsets)[0]).has_value() || !AsCount((*offsets)[1]).has_value()) {
    return absl::DataLossError(
        absl::StrFormat("tensor '%s' has no data_offsets [begin, end] of two sizes", name));
  }
  t.begin = *AsCount((*offsets)[0]);
  t.end = *AsCount((*offsets)[1]);
  if (t.end < t.begin) {
    return absl::DataLossError(absl::StrFormat("tensor '%s' has data_offsets [%d, %d] ending "
                                               "before they begin",
                                               name, t.begin, t.end));
  }
  const std::optional<uint64_t> elements = CountElements(t.shape);
  if (!elements.has_value() || t.end - t.begin != *elements * DtypeBytes(t.dtype)) {
    return absl::DataLossError(absl::StrFormat(
        "tensor '%s' holds %d bytes, but its shape and dtype %s need %s", name, t.end - t.begin,
        DtypeName(t.dtype),
        elements.has_value() ? absl::StrFormat("%d", *elements * DtypeBytes(t.dtype))
                             : std::string("more than 2^62 elements")));
  }
  return t;
}

}  // namespace

std::optional<Dtype> ParseDtype(absl::string_view name) {
  for (const DtypeEntry& e : kDtypes) {
    if (name == e.name) return e.dtype;
  }
  return std::nullopt;
}

absl::string_view DtypeName(Dtype dtype) { return Entry(dtype).name; }

int DtypeBytes(Dtype dtype) { return Entry(dtype).bytes; }

int64_t SafetensorsTensor::NumElements() const {
  int64_t count = 1;
  for (const int64_t dim : shape) count *= dim;
  return count;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  KVLAB_ASSIGN_OR_RETURN(file->mapping_, MappedFile::Open(path, "safetensors file"));
  file->data_ = file->mapping_.bytes().data();
  file->size_ = file->mapping_.bytes().size();
  KVLAB_RETURN_IF_ERROR(Annotate(file->Parse(), path));
  return file;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBytes(
    const std::string& name, absl::Span<const uint8_t> bytes) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = name;
  file->data_ = bytes.empty() ? nullptr : bytes.data();
  file->size_ = bytes.size();
  KVLAB_RETURN_IF_ERROR(Annotate(file->Parse(), name));
  return file;
}

absl::Status SafetensorsFile::Parse() {
  if (size_ < 8) {
    return absl::DataLossError(
        absl::StrFormat("%d bytes, too short for the 8-byte header length", size_));
  }
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | data_[i];  // Little-endian.
  if (header_bytes > kMaxHeaderBytes) {
    return absl::DataLossError(absl::StrFormat(
        "header length %d is over the %d-byte limit", header_bytes, kMaxHeaderBytes));
  }
  if (header_bytes > size_ - 8) {
    return absl::DataLossError(absl::StrFormat(
        "header length %d runs past the end of the file (%d bytes)", header_bytes, size_));
  }
  data_offset_ = 8 + header_bytes;
  const absl::string_view text(reinterpret_cast<const char*>(data_ + 8), header_bytes);
  KVLAB_ASSIGN_OR_RETURN(const nlohmann::json header, ParseJsonText("header", text));
  if (!header.is_object()) {
    return absl::DataLossError(
        absl::StrFormat("header is a JSON %s, not an object", JsonTypeName(header)));
  }
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) {
        return absl::DataLossError("__metadata__ is not an object of strings");
      }
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string()) {
          return absl::DataLossError(
              absl::StrFormat("__metadata__ entry '%s' is not a string", meta_key));
        }
        metadata_[meta_key] = meta_value.get<std::string>();
      }
      continue;
    }
    KVLAB_ASSIGN_OR_RETURN(SafetensorsTensor tensor, ReadTensorEntry(key, value));
    tensors_.push_back(std::move(tensor));
  }
  // The data must be exactly the tensors' ranges laid end to end: in order of their
  // begin, each starts where the previous ended and the last ends with the file.
  std::sort(tensors_.begin(), tensors_.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  const uint64_t data_bytes = size_ - data_offset_;
  uint64_t covered = 0;
  const SafetensorsTensor* previous = nullptr;
  for (const SafetensorsTensor& t : tensors_) {
    if (t.begin < covered) {
      return absl::DataLossError(absl::StrFormat(
          "tensor '%s' (bytes [%d, %d)) overlaps tensor '%s' (bytes [%d, %d))", t.name, t.begin,
          t.end, previous->name, previous->begin, previous->end));
    }
    if (t.begin > covered) {
      return absl::DataLossError(absl::StrFormat(
          "data bytes [%d, %d) belong to no tensor (the next, '%s', begins at %d)", covered,
          t.begin, t.name, t.begin));
    }
    if (t.end > data_bytes) {
      return absl::DataLossError(absl::StrFormat(
          "tensor '%s' ends at data byte %d, past the %d bytes of data the file holds", t.name,
          t.end, data_bytes));
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_bytes) {
    return absl::DataLossError(absl::StrFormat(
        "the tensors cover %d of the %d data bytes; the rest belong to no tensor", covered,
        data_bytes));
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  return absl::OkStatus();
}

const SafetensorsTensor* SafetensorsFile::FindTensor(absl::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Span<const uint8_t> SafetensorsFile::TensorBytes(const SafetensorsTensor& tensor) const {
  return absl::Span<const uint8_t>(data_ + data_offset_ + tensor.begin, tensor.end - tensor.begin);
}

}  // namespace kvlab::safetensors

#include "eval/gguf/gguf_writer.h"

#include <cstring>
#include <fstream>

#include "absl/strings/str_format.h"

namespace kvlab::gguf {

namespace {

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void PutString(std::string& out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out += s;
}

void PutValue(std::string& out, const GgufValue& value);

void PutPayload(std::string& out, const GgufValue& value) {
  switch (value.type()) {
    case ValueType::kUint8: Put<uint8_t>(out, *value.AsInt()); break;
    case ValueType::kInt8: Put<int8_t>(out, *value.AsInt()); break;
    case ValueType::kUint16: Put<uint16_t>(out, *value.AsInt()); break;
    case ValueType::kInt16: Put<int16_t>(out, *value.AsInt()); break;
    case ValueType::kUint32: Put<uint32_t>(out, *value.AsInt()); break;
    case ValueType::kInt32: Put<int32_t>(out, *value.AsInt()); break;
    case ValueType::kUint64: Put<uint64_t>(out, *value.AsInt()); break;
    case ValueType::kInt64: Put<int64_t>(out, *value.AsInt()); break;
    case ValueType::kFloat32: Put<float>(out, *value.AsDouble()); break;
    case ValueType::kFloat64: Put<double>(out, *value.AsDouble()); break;
    case ValueType::kBool: Put<uint8_t>(out, *value.AsBool() ? 1 : 0); break;
    case ValueType::kString: PutString(out, *value.AsString()); break;
    case ValueType::kArray: {
      const GgufValue::Array& elements = **value.AsArray();
      Put<uint32_t>(out, static_cast<uint32_t>(value.element_type()));
      Put<uint64_t>(out, elements.size());
      for (const GgufValue& element : elements) PutPayload(out, element);
      break;
    }
  }
}

void PutValue(std::string& out, const GgufValue& value) {
  Put<uint32_t>(out, static_cast<uint32_t>(value.type()));
  PutPayload(out, value);
}

uint64_t AlignUp(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

}  // namespace

void GgufWriter::AddMetadata(std::string key, GgufValue value) {
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::AddString(std::string key, std::string value) {
  AddMetadata(std::move(key), GgufValue::String(std::move(value)));
}

void GgufWriter::AddUint32(std::string key, uint32_t value) {
  AddMetadata(std::move(key), GgufValue::Unsigned(ValueType::kUint32, value));
}

void GgufWriter::AddFloat32(std::string key, float value) {
  AddMetadata(std::move(key), GgufValue::Float(ValueType::kFloat32, value));
}

void GgufWriter::AddBool(std::string key, bool value) {
  AddMetadata(std::move(key), GgufValue::Bool(value));
}

void GgufWriter::AddStringArray(std::string key, const std::vector<std::string>& values) {
  GgufValue::Array elements;
  for (const std::string& v : values) elements.push_back(GgufValue::String(v));
  AddMetadata(std::move(key), GgufValue::MakeArray(ValueType::kString, std::move(elements)));
}

void GgufWriter::AddInt32Array(std::string key, const std::vector<int32_t>& values) {
  GgufValue::Array elements;
  for (int32_t v : values) elements.push_back(GgufValue::Signed(ValueType::kInt32, v));
  AddMetadata(std::move(key), GgufValue::MakeArray(ValueType::kInt32, std::move(elements)));
}

void GgufWriter::AddTensor(std::string name, std::vector<int64_t> dims, TensorType type,
                           std::string data) {
  AddTensorWithTypeId(std::move(name), std::move(dims), static_cast<uint32_t>(type),
                      std::move(data));
}

void GgufWriter::AddTensorWithTypeId(std::string name, std::vector<int64_t> dims,
                                     uint32_t type_id, std::string data) {
  tensors_.push_back(Tensor{std::move(name), std::move(dims), type_id, std::move(data)});
}

std::string GgufWriter::Serialize() const {
  std::string out;
  Put<uint32_t>(out, magic_override.value_or(0x46554747));
  Put<uint32_t>(out, version);
  Put<uint64_t>(out, tensors_.size());
  Put<uint64_t>(out, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    PutString(out, key);
    PutValue(out, value);
  }
  uint64_t offset = 0;
  for (const Tensor& tensor : tensors_) {
    PutString(out, tensor.name);
    Put<uint32_t>(out, tensor.dims.size());
    for (int64_t d : tensor.dims) Put<uint64_t>(out, d);
    Put<uint32_t>(out, tensor.type_id);
    Put<uint64_t>(out, offset);
    offset = AlignUp(offset + tensor.data.size(), alignment);
  }
  out.resize(AlignUp(out.size(), alignment), '\0');
  for (const Tensor& tensor : tensors_) {
    out += tensor.data;
    out.resize(AlignUp(out.size(), alignment), '\0');
  }
  return out;
}

absl::Status GgufWriter::WriteFile(const std::string& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  const std::string bytes = Serialize();
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file.good()) return absl::InternalError(absl::StrFormat("%s: write failed", path));
  return absl::OkStatus();
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace kvlab::gguf

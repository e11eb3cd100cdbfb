#include "eval/safetensors/safetensors_writer.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"

namespace kvlab::safetensors {

void SafetensorsWriter::AddTensor(std::string name, std::string dtype, std::vector<int64_t> shape,
                                  std::string data) {
  tensors_.push_back({std::move(name), std::move(dtype), std::move(shape), std::move(data)});
}

void SafetensorsWriter::AddMetadata(std::string key, std::string value) {
  metadata_.emplace_back(std::move(key), std::move(value));
}

std::string SafetensorsWriter::HeaderJson() const {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata_.empty()) {
    nlohmann::json metadata = nlohmann::json::object();
    for (const auto& [key, value] : metadata_) metadata[key] = value;
    header["__metadata__"] = metadata;
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  return header.dump();
}

std::string SafetensorsWriter::Serialize() const {
  std::string data;
  for (const Tensor& t : tensors_) data += t.data;
  std::string header = HeaderJson();
  header.append((8 - header.size() % 8) % 8, ' ');
  return SafetensorsBytes(header, data);
}

absl::Status SafetensorsWriter::WriteFile(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string bytes = Serialize();
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrFormat("%s: cannot write", path));
  return absl::OkStatus();
}

std::string SafetensorsBytes(const std::string& header_json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t length = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return out + header_json + data;
}

std::string F32Bytes(const std::vector<float>& values) {
  std::string out(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace kvlab::safetensors

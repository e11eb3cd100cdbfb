// Fuzzes the GGUF reader: the header, metadata of every value type, tensor
// descriptions and their extents, and the dequantization of every supported tensor
// type. Any input must give a file or an error, never a crash, leak or hang. (The
// tokenizer a file describes is fuzzed by //eval/tokenizer:gguf_tokenizer_fuzzer.)
#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "eval/gguf/dequantize.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_types.h"

namespace kvlab::gguf {
namespace {

// Dequantizes as many whole blocks of `type` as `bytes` holds (at most 64).
void DequantizeBlocks(TensorType type, absl::Span<const uint8_t> bytes) {
  const auto traits = GetTensorTypeTraits(static_cast<uint32_t>(type));
  if (!traits.has_value()) return;
  const size_t blocks = std::min<size_t>(bytes.size() / traits->block_bytes, 64);
  std::vector<float> out(blocks * traits->block_elements);
  (void)DequantizeToFloat(type, bytes.subspan(0, blocks * traits->block_bytes),
                          absl::MakeSpan(out));
}

void ReadEverything(const GgufFile& file) {
  for (const std::string& key : file.metadata_keys()) {
    const GgufValue* value = file.FindMetadata(key);
    if (value == nullptr) continue;
    (void)value->DebugString();
    (void)file.GetInt(key);
    (void)file.GetDouble(key);
    (void)file.GetBool(key);
    (void)file.GetString(key);
    (void)file.GetStringArray(key);
    (void)file.GetIntArray(key);
  }
  for (const TensorInfo& tensor : file.tensors()) {
    (void)file.FindTensor(tensor.name);
    (void)tensor.TorchShape();
    const absl::Span<const uint8_t> bytes = file.TensorBytes(tensor);
    if (IsDequantizable(tensor.type)) DequantizeBlocks(tensor.type, bytes);
  }
}

}  // namespace
}  // namespace kvlab::gguf

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvlab::gguf;
  const absl::Span<const uint8_t> bytes(data, size);
  auto file = GgufFile::FromBytes("fuzz.gguf", bytes);
  if (file.ok()) ReadEverything(**file);
  // The same bytes as raw blocks of every tensor type: the block decoders see every
  // bit pattern, not only those a valid file's tensors happen to hold.
  // Every type id is tried, so a newly supported type is fuzzed with no change here.
  for (uint32_t id = 0; id < 64; ++id) {
    const TensorType type = static_cast<TensorType>(id);
    if (GetTensorTypeTraits(id).has_value() && IsDequantizable(type)) DequantizeBlocks(type, bytes);
  }
  return 0;
}

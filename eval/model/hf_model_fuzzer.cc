// Fuzzes what kvlab reads of a Hugging Face model directory before any weight: the
// safetensors header (length, JSON, dtypes, shapes, offsets against the file), the
// shard index, and config.json into each architecture's configuration. Each input is
// tried as all of them:
//   - a safetensors file, as it stands;
//   - split at its first NUL byte into header JSON and data, joined into a file with
//     the right length prefix (so the JSON is reachable without guessing 8 bytes);
//   - the text of model.safetensors.index.json;
//   - the text of config.json.
// Any input must give a value or an error, never a crash, leak or hang.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/rope_scaling.h"
#include "core/rotary_embedding.h"
#include "eval/model/architecture.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/hf_config.h"
#include "eval/model/llama_config.h"
#include "eval/safetensors/safetensors_checkpoint.h"
#include "eval/safetensors/safetensors_file.h"
#include "eval/safetensors/safetensors_tensor.h"

namespace kvlab {
namespace {

void ReadSafetensors(const std::string& bytes) {
  auto file = safetensors::SafetensorsFile::FromBytes(
      "fuzz.safetensors",
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (!file.ok()) return;
  for (const safetensors::SafetensorsTensor& t : (*file)->tensors()) {
    (void)(*file)->FindTensor(t.name);
    (void)(*file)->TensorBytes(t);
    // Small tensors go through the conversion too (a large one only costs time).
    if (t.NumElements() <= 4096) {
      for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
        (void)safetensors::LoadTensor(**file, t, dtype);
      }
    }
  }
}

// The rotary embedding a configuration asks for (no angle table: only the frequencies).
void MakeRope(int64_t head_dim, int64_t rope_dim, double base, const RopeScaling& scaling) {
  absl::StatusOr<std::vector<double>> frequencies = RopeInverseFrequencies(base, rope_dim, scaling);
  if (!frequencies.ok()) return;
  (void)RotaryEmbedding::WithFrequencies(head_dim, *std::move(frequencies), RopeStyle::kHalf,
                                         /*table_positions=*/0);
}

void ReadConfig(absl::string_view text) {
  absl::StatusOr<model::HfConfig> config = model::HfConfig::Parse("config.json", text);
  if (!config.ok()) return;
  (void)model::HfArchitecture(*config);
  if (auto llama = model::LlamaConfig::FromHf(*config); llama.ok()) {
    (void)llama->attention_shape();
    MakeRope(llama->head_dim, llama->rope_dim, llama->rope_base, llama->rope_scaling);
  }
  if (auto gemma = model::Gemma3Config::FromHf(*config); gemma.ok()) {
    (void)gemma->attention_shape();
    MakeRope(gemma->head_dim, gemma->rope_dim, gemma->rope_base, gemma->rope_scaling);
    MakeRope(gemma->head_dim, gemma->rope_dim, gemma->local_rope_base, gemma->local_rope_scaling);
  }
}

}  // namespace
}  // namespace kvlab

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvlab;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  ReadSafetensors(bytes);
  if (const size_t nul = bytes.find('\0'); nul != std::string::npos) {
    const std::string header = bytes.substr(0, nul);
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    ReadSafetensors(file + header + bytes.substr(nul + 1));
  }
  (void)safetensors::ParseShardIndex("model.safetensors.index.json", bytes);
  ReadConfig(bytes);
  return 0;
}

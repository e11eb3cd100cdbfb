// Fuzzes the default model's tokenizer with arbitrary bytes, invalid UTF-8 included:
// encoding never crashes or hangs, every id is in the vocabulary, and valid UTF-8
// decodes back to exactly the input (byte-level BPE loses nothing) whenever every byte
// of it has a byte token in the vocabulary (bytes without one are skipped, as llama.cpp
// skips them).
//
// The vocabulary comes from the default model (a data dependency, so tests and
// fuzzing/run.sh find it at its runfiles path), or from $KVLAB_FUZZ_MODEL.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "absl/strings/string_view.h"
#include "eval/gguf/gguf_file.h"
#include "eval/testing/default_model.h"
#include "eval/tokenizer/bpe_tokenizer.h"
#include "eval/tokenizer/unicode_text.h"

namespace {

std::optional<kvlab::tokenizer::BpeTokenizer>& Tokenizer() {
  static std::optional<kvlab::tokenizer::BpeTokenizer> tokenizer;
  return tokenizer;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* env = std::getenv("KVLAB_FUZZ_MODEL");
  const std::string path = env != nullptr ? env : kvlab::testing::kDefaultModelPath;
  auto file = kvlab::gguf::GgufFile::Open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "bpe_tokenizer_fuzzer: %s\n", std::string(file.status().message()).c_str());
    std::exit(1);
  }
  auto tokenizer = kvlab::tokenizer::BpeTokenizer::FromGguf(**file);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "bpe_tokenizer_fuzzer: %s\n",
                 std::string(tokenizer.status().message()).c_str());
    std::exit(1);
  }
  Tokenizer() = *std::move(tokenizer);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kvlab::tokenizer::BpeTokenizer& tokenizer = *Tokenizer();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> ids = tokenizer.Encode(text, /*add_bos=*/size % 2 == 1);
  for (int32_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size()) {
      std::fprintf(stderr, "id %d outside the vocabulary of %d\n", id, tokenizer.vocab_size());
      std::abort();
    }
  }
  bool every_byte_has_a_token = true;
  for (size_t i = 0; i < size; ++i) every_byte_has_a_token &= tokenizer.HasByteToken(data[i]);
  if (size % 2 == 0 && kvlab::tokenizer::IsValidUtf8(text) && every_byte_has_a_token &&
      tokenizer.Decode(ids) != text) {
    std::fprintf(stderr, "valid UTF-8 did not decode back to itself\n");
    std::abort();
  }
  return 0;
}

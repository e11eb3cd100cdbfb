// Fuzzes the byte-level BPE tokenizer a GGUF file describes: its vocabulary, token
// types and merges come from metadata arrays the fuzzed file controls. Any input must
// give a tokenizer or an error, never a crash, leak or hang; a tokenizer it gives
// encodes text. (The GGUF reader itself is fuzzed by //eval/gguf:gguf_file_fuzzer.)
#include <cstdint>

#include "absl/types/span.h"
#include "eval/gguf/gguf_file.h"
#include "eval/tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file =
      kvlab::gguf::GgufFile::FromBytes("fuzz.gguf", absl::Span<const uint8_t>(data, size));
  if (!file.ok()) return 0;
  auto tokenizer = kvlab::tokenizer::BpeTokenizer::FromGguf(**file);
  if (tokenizer.ok()) (void)tokenizer->Encode("The 3 ants: naïve?");
  return 0;
}

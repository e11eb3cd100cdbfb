// Fuzzes every GGUF pre-tokenizer with arbitrary bytes: the first byte picks the name
// (modulo their number), the rest is the text. Splitting never crashes or hangs, no
// word is empty, and the words put together give back the text exactly when it is
// valid UTF-8 (otherwise with each malformed byte as U+FFFD).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eval/tokenizer/pre_tokenizer.h"
#include "eval/tokenizer/unicode_text.h"

namespace {

const std::vector<kvlab::tokenizer::PreTokenizer>& PreTokenizers() {
  static const auto* const pre_tokenizers = [] {
    auto* all = new std::vector<kvlab::tokenizer::PreTokenizer>;
    for (const std::string& name : kvlab::tokenizer::PreTokenizer::SupportedNames()) {
      auto pre = kvlab::tokenizer::PreTokenizer::ForName(name);
      if (!pre.ok()) {
        std::fprintf(stderr, "%s\n", std::string(pre.status().message()).c_str());
        std::abort();
      }
      all->push_back(*std::move(pre));
    }
    return all;
  }();
  return *pre_tokenizers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& all = PreTokenizers();
  const kvlab::tokenizer::PreTokenizer& pre = all[data[0] % all.size()];
  const absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string joined;
  for (const std::string& word : pre.Split(text)) {
    if (word.empty()) {
      std::fprintf(stderr, "empty word\n");
      std::abort();
    }
    joined += word;
  }
  if (kvlab::tokenizer::IsValidUtf8(text) && joined != text) {
    std::fprintf(stderr, "the words do not give back the text\n");
    std::abort();
  }
  return 0;
}

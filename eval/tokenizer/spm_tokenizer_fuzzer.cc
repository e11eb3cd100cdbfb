// Fuzzes the SentencePiece-style tokenizer (Gemma 3's kind) with arbitrary bytes,
// invalid UTF-8 included: encoding never crashes or hangs, every id is in the
// vocabulary, no control token appears unless asked for (BOS), and valid UTF-8 decodes
// back to exactly the input (byte fallback gives every byte a token). Malformed UTF-8
// need not: a lead byte takes the next bytes into its symbol whatever they are, so a
// space after it is written as U+2581's bytes, as llama.cpp does.
//
// The vocabulary is built here rather than read from a model, so the target runs
// without one: control tokens, the 256 byte tokens, single characters, scored merges
// of English and of multi-byte characters, a repeated entry (the last one wins, as in
// llama.cpp) and Gemma's two user-defined turn markers, which split the text. The
// first input byte picks the tokenizer (with or without the space prefix) and BOS.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "eval/tokenizer/spm_tokenizer.h"
#include "eval/tokenizer/unicode_text.h"

namespace {

using kvlab::tokenizer::SpmTokenizer;
using kvlab::tokenizer::SpmVocabulary;

constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kByte = 6;
constexpr const char* kSpaceMark = "\xE2\x96\x81";  // U+2581, how the vocabulary writes spaces
constexpr const char* kTurnMarkers[] = {"<start_of_turn>", "<end_of_turn>"};

SpmVocabulary MakeVocabulary(bool add_space_prefix) {
  SpmVocabulary v;
  const auto add = [&v](std::string text, float score, int32_t type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  for (const char* control : {"<pad>", "<eos>", "<bos>", "<unk>"}) add(control, 0.0f, kControl);
  v.token_types.back() = 2;  // <unk>
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0.0f, kByte);
  }
  // Printable ASCII but the space, which the vocabulary writes as U+2581.
  for (char c = '!'; c <= '~'; ++c) add(std::string(1, c), -10.0f, kNormal);
  add(kSpaceMark, -9.0f, kNormal);
  // Merges, higher scores first; some overlap ("th", "he", "the") so the order matters.
  const std::vector<std::string> merges = {
      "▁the", "th", "he", "the", "▁t", "in", "er", "an", "▁a", "re", "on", "▁th", "ing",
      "▁in", "ed", "nd", "▁of", "es", "▁and", "▁▁", "▁▁▁▁", "at", "en", "is", "it", "or",
      "▁=", "▁@", "@-@", "é", "ü", "日", "本", "日本", "語", "日本語", "ü", "\xF0\x9F\x99\x82"};
  float score = -1.0f;
  for (const std::string& m : merges) {
    add(absl::StrReplaceAll(m, {{"▁", kSpaceMark}}), score, kNormal);
    score -= 0.25f;
  }
  for (const char* marker : kTurnMarkers) add(marker, 0.0f, kUserDefined);
  v.bos_id = 2;
  v.eos_id = 1;
  v.add_bos = true;
  v.add_space_prefix = add_space_prefix;
  return v;
}

std::optional<SpmTokenizer>& Tokenizer(bool add_space_prefix) {
  static std::optional<SpmTokenizer> with_prefix, without_prefix;
  return add_space_prefix ? with_prefix : without_prefix;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "spm_tokenizer_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  for (const bool prefix : {false, true}) {
    auto tokenizer = SpmTokenizer::FromVocabulary(MakeVocabulary(prefix));
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "spm_tokenizer_fuzzer: %s\n",
                   std::string(tokenizer.status().message()).c_str());
      std::exit(1);
    }
    Tokenizer(prefix) = *std::move(tokenizer);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool add_space_prefix = (data[0] & 1) != 0;
  const bool add_bos = (data[0] & 2) != 0;
  SpmTokenizer& tokenizer = *Tokenizer(add_space_prefix);
  const absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<int32_t> ids = tokenizer.Encode(text, add_bos);

  if (add_bos && (ids.empty() || ids.front() != tokenizer.bos_id())) Fail("BOS missing");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= tokenizer.vocab_size()) Fail("id outside the vocabulary");
    if (ids[i] < 4 && !(add_bos && i == 0)) Fail("a control token the text did not ask for");
  }

  // A literal U+2581 in the text decodes as a space, as in llama.cpp: no round trip.
  if (!kvlab::tokenizer::IsValidUtf8(text) || text.find(kSpaceMark) != absl::string_view::npos) {
    return 0;
  }
  const std::vector<int32_t> text_ids(ids.begin() + (add_bos ? 1 : 0), ids.end());
  std::string decoded = tokenizer.Decode(text_ids);
  if (add_space_prefix) {
    // The prefix goes at the start and after each turn marker; without markers, one.
    for (const char* marker : kTurnMarkers) {
      if (text.find(marker) != absl::string_view::npos) return 0;
    }
    if (!text.empty()) {
      if (decoded.empty() || decoded[0] != ' ') Fail("the space prefix is missing");
      decoded.erase(0, 1);
    }
  }
  if (decoded != text) Fail("the text did not decode back to itself");
  return 0;
}

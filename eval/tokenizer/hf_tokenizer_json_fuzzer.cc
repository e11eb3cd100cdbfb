// Fuzzes tokenizer.json reading and encoding with arbitrary bytes.
//
// An input holding a NUL byte is a tokenizer.json (before it) and a text (after it):
// reading never crashes, hangs or asks for unbounded memory, whatever the file says, and
// a file that reads encodes the text with every id inside its vocabulary.
//
// An input without one is a text for two tokenizers built here, so that encoding gets
// most of the time: the first byte picks the tokenizer (bit 0: byte-level BPE with
// Llama 3's Split regex, or SentencePiece-style BPE with byte fallback and Metaspace)
// and BOS (bit 1). Every id is in the vocabulary, BOS comes first when asked for, and
// valid UTF-8 decodes back to itself (byte-level: always, every byte has a symbol;
// SentencePiece-style: unless the text holds U+2581 or starts with a space, which
// Metaspace does not give back, as in `tokenizers`).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "eval/tokenizer/byte_alphabet.h"
#include "eval/tokenizer/hf_tokenizer_json.h"
#include "eval/tokenizer/unicode_text.h"
#include "nlohmann/json.hpp"

namespace {

using kvlab::tokenizer::Tokenizer;
using Json = nlohmann::json;

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581

Json AddedTokens() {
  Json tokens = Json::array();
  for (const auto& [id, content, special] : std::vector<std::tuple<int, const char*, bool>>{
           {0, "<s>", true}, {1, "</s>", true}, {2, "<sep>", false}}) {
    tokens.push_back({{"id", id}, {"content", content}, {"special", special},
                      {"normalized", false}, {"lstrip", false}, {"rstrip", false},
                      {"single_word", false}});
  }
  return tokens;
}

// Byte-level: the 256 byte symbols and merges of a few English words.
Json ByteLevelJson() {
  Json vocab = {{"<s>", 0}, {"</s>", 1}, {"<sep>", 2}};
  const std::vector<std::string> alphabet = kvlab::tokenizer::MakeByteAlphabet();
  for (const std::string& symbol : alphabet) vocab[symbol] = vocab.size();
  Json merges = Json::array();
  const std::string space = alphabet[' '];
  for (const auto& [left, right] :
       std::vector<std::pair<std::string, std::string>>{
           {"t", "h"}, {"th", "e"}, {space, "the"}, {"i", "n"}, {space, "a"}, {"e", "r"},
           {"o", "n"}, {space, "t"}, {"r", "e"}, {"1", "2"}, {"12", "3"}, {"\xC3\x83", "\xC2\xA9"}}) {
    vocab[left + right] = vocab.size();
    merges.push_back({left, right});
  }
  return Json{
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", true}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}}}}}},
      {"added_tokens", AddedTokens()}};
}

// SentencePiece-style: byte fallback for everything but ASCII letters and a few merges.
Json SentencePieceJson() {
  Json vocab = {{"<s>", 0}, {"</s>", 1}, {"<sep>", 2}, {"<unk>", 3}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = vocab.size();
  }
  vocab[kSpaceMark] = vocab.size();
  for (char c = 'a'; c <= 'z'; ++c) vocab[std::string(1, c)] = vocab.size();
  Json merges = Json::array();
  const std::string mark = kSpaceMark;
  for (const auto& [left, right] : std::vector<std::pair<std::string, std::string>>{
           {"t", "h"}, {"th", "e"}, {mark, "the"}, {"i", "n"}, {mark, "a"}, {"e", "r"},
           {mark, mark}, {mark + mark, mark + mark}, {"o", "n"}, {mark, "t"}}) {
    vocab[left + right] = vocab.size();
    merges.push_back(left + " " + right);
  }
  return Json{
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"byte_fallback", true},
        {"fuse_unk", true}, {"unk_token", "<unk>"}}},
      {"pre_tokenizer",
       {{"type", "Metaspace"}, {"replacement", kSpaceMark}, {"prepend_scheme", "first"},
        {"split", false}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}}}}}},
      {"added_tokens", AddedTokens()}};
}

std::unique_ptr<Tokenizer>& Builtin(int which) {
  static std::unique_ptr<Tokenizer> tokenizers[2];
  return tokenizers[which];
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "hf_tokenizer_json_fuzzer: %s\n", what);
  std::abort();
}

void CheckIds(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size()) Fail("id outside the vocabulary");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const Json files[2] = {ByteLevelJson(), SentencePieceJson()};
  for (int which = 0; which < 2; ++which) {
    auto tokenizer =
        kvlab::tokenizer::TokenizerFromJsonText(files[which].dump(), "", "builtin", "");
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "hf_tokenizer_json_fuzzer: %s\n",
                   std::string(tokenizer.status().message()).c_str());
      std::exit(1);
    }
    Builtin(which) = *std::move(tokenizer);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (const size_t nul = input.find('\0'); nul != absl::string_view::npos) {
    auto tokenizer = kvlab::tokenizer::TokenizerFromJsonText(input.substr(0, nul), "",
                                                             "fuzz/tokenizer.json", "");
    if (!tokenizer.ok()) return 0;
    const std::vector<int32_t> ids = (*tokenizer)->Encode(input.substr(nul + 1), size % 2 == 1);
    CheckIds(**tokenizer, ids);
    (*tokenizer)->Decode(ids);
    return 0;
  }
  if (size == 0) return 0;
  const int which = data[0] & 1;
  const bool add_bos = (data[0] & 2) != 0;
  Tokenizer& tokenizer = *Builtin(which);
  const absl::string_view text = input.substr(1);
  const std::vector<int32_t> ids = tokenizer.Encode(text, add_bos);
  CheckIds(tokenizer, ids);
  if (add_bos && (ids.empty() || ids.front() != 0)) Fail("BOS missing");
  if (!kvlab::tokenizer::IsValidUtf8(text)) return 0;
  if (which == 1 && (absl::StrContains(text, kSpaceMark) || absl::StartsWith(text, " "))) {
    return 0;
  }
  const std::vector<int32_t> text_ids(ids.begin() + (add_bos ? 1 : 0), ids.end());
  if (tokenizer.Decode(text_ids) != text) Fail("the text did not decode back to itself");
  return 0;
}

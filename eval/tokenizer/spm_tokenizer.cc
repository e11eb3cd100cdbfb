#include "eval/tokenizer/spm_tokenizer.h"

#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "base/annotate.h"
#include "base/status_macros.h"

namespace kvlab::tokenizer {

namespace {

constexpr int32_t kUserDefined = 4;
constexpr int32_t kByte = 6;
constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581, SentencePiece's space.

// Length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte,
// as llama.cpp treats it).
size_t Utf8Length(unsigned char lead) {
  static constexpr size_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// A symbol in the merge loop: a byte range of the text, linked to its neighbours.
struct Symbol {
  int prev;
  int next;
  size_t begin;
  size_t length;  // 0 once merged into its left neighbour.
};

struct Bigram {
  float score;
  int left;
  int right;
  size_t length;  // Combined length when queued; a mismatch later means stale.
};

// Highest score first; the leftmost pair on ties.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

absl::StatusOr<SpmTokenizer> SpmTokenizer::FromGguf(const gguf::GgufFile& file) {
  SpmVocabulary vocabulary;
  KVLAB_ASSIGN_OR_RETURN(vocabulary.tokens, file.GetStringArray("tokenizer.ggml.tokens"));
  KVLAB_ASSIGN_OR_RETURN(const std::vector<double> scores,
                         file.GetDoubleArray("tokenizer.ggml.scores"));
  vocabulary.scores.assign(scores.begin(), scores.end());
  KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> types,
                         file.GetIntArray("tokenizer.ggml.token_type"));
  vocabulary.token_types.assign(types.begin(), types.end());
  if (file.FindMetadata("tokenizer.ggml.bos_token_id") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t bos, file.GetInt("tokenizer.ggml.bos_token_id"));
    vocabulary.bos_id = static_cast<int32_t>(bos);
  }
  if (file.FindMetadata("tokenizer.ggml.eos_token_id") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t eos, file.GetInt("tokenizer.ggml.eos_token_id"));
    vocabulary.eos_id = static_cast<int32_t>(eos);
  }
  if (file.FindMetadata("tokenizer.ggml.add_bos_token") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(vocabulary.add_bos, file.GetBool("tokenizer.ggml.add_bos_token"));
  }
  if (file.FindMetadata("tokenizer.ggml.add_space_prefix") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(vocabulary.add_space_prefix,
                           file.GetBool("tokenizer.ggml.add_space_prefix"));
  }
  absl::StatusOr<SpmTokenizer> tokenizer = FromVocabulary(std::move(vocabulary));
  if (!tokenizer.ok()) {
    return Annotate(tokenizer.status(), file.path());
  }
  return tokenizer;
}

absl::StatusOr<SpmTokenizer> SpmTokenizer::FromVocabulary(SpmVocabulary vocabulary) {
  const int64_t n = static_cast<int64_t>(vocabulary.tokens.size());
  if (n == 0) return absl::InvalidArgumentError("tokenizer.ggml.tokens is empty");
  if (static_cast<int64_t>(vocabulary.scores.size()) != n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tokenizer.ggml.scores has %d entries for %d tokens", vocabulary.scores.size(), n));
  }
  if (static_cast<int64_t>(vocabulary.token_types.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tokenizer.ggml.token_type has %d entries for %d tokens",
                        vocabulary.token_types.size(), n));
  }
  KVLAB_RETURN_IF_ERROR(
      CheckSpecialTokenIds(n, vocabulary.bos_id, vocabulary.eos_id, vocabulary.add_bos));
  // Byte fallback needs all 256 `<0xNN>` tokens.
  std::array<int32_t, 256> byte_ids;
  byte_ids.fill(-1);
  for (int64_t i = 0; i < n; ++i) {
    const std::string& t = vocabulary.tokens[i];
    if (vocabulary.token_types[i] != kByte) continue;
    unsigned int byte;
    if (t.size() != 6 || std::sscanf(t.c_str(), "<0x%2X>", &byte) != 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "tokenizer.ggml.tokens[%d] is a byte token but reads '%s', expected <0xNN>", i, t));
    }
    byte_ids[byte] = static_cast<int32_t>(i);
  }
  for (int b = 0; b < 256; ++b) {
    if (byte_ids[b] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the vocabulary has no byte token <0x%02X>, which byte fallback needs", b));
    }
  }
  return SpmTokenizer(std::move(vocabulary), byte_ids);
}

namespace {

// The user-defined tokens, which llama.cpp splits the text at even when it does not
// parse special tokens.
std::pair<std::vector<std::string>, std::vector<int32_t>> UserDefinedTokens(
    const SpmVocabulary& vocabulary) {
  std::vector<std::string> texts;
  std::vector<int32_t> ids;
  for (size_t i = 0; i < vocabulary.tokens.size(); ++i) {
    if (vocabulary.token_types[i] != kUserDefined) continue;
    texts.push_back(vocabulary.tokens[i]);
    ids.push_back(static_cast<int32_t>(i));
  }
  return {texts, ids};
}

}  // namespace

SpmTokenizer::SpmTokenizer(SpmVocabulary vocabulary, std::array<int32_t, 256> byte_ids)
    : vocabulary_(std::move(vocabulary)),
      byte_ids_(byte_ids),
      splitter_(UserDefinedTokens(vocabulary_).first, UserDefinedTokens(vocabulary_).second) {
  token_ids_.reserve(vocabulary_.tokens.size());
  for (size_t i = 0; i < vocabulary_.tokens.size(); ++i) {
    // The last occurrence wins if a vocabulary repeats a string, as in llama.cpp.
    token_ids_.insert_or_assign(vocabulary_.tokens[i], static_cast<int32_t>(i));
  }
}

std::vector<int32_t> SpmTokenizer::Encode(absl::string_view text, bool add_bos) {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  if (add_bos) ids.push_back(vocabulary_.bos_id);
  bool after_special = true;  // The start of the text counts as after a special token.
  for (const TextPiece& piece : splitter_.Split(text)) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      after_special = true;
      continue;
    }
    std::string escaped = vocabulary_.add_space_prefix && after_special ? " " : "";
    escaped.append(piece.text.data(), piece.text.size());
    EncodePiece(absl::StrReplaceAll(escaped, {{" ", kSpaceMark}}), ids);
    after_special = false;
  }
  return ids;
}

void SpmTokenizer::EncodePiece(const std::string& text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const size_t length =
        std::min(Utf8Length(static_cast<unsigned char>(text[offset])), text.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back(Symbol{index - 1, index + 1, offset, length});
    offset += length;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_queue = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t length = symbols[left].length + symbols[right].length;
    auto it = token_ids_.find(absl::string_view(text).substr(symbols[left].begin, length));
    if (it == token_ids_.end()) return;
    queue.push(Bigram{vocabulary_.scores[it->second], left, right, length});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_queue(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // Stale if either side has since been merged elsewhere.
    if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) {
      continue;
    }
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_queue(left.prev, bigram.left);
    try_queue(bigram.left, left.next);
  }

  // Every merged symbol is a vocabulary entry; a single character may not be, and
  // then falls back to its bytes.
  for (int i = 0; i >= 0; i = symbols[i].next) {
    const absl::string_view symbol = absl::string_view(text).substr(symbols[i].begin,
                                                                    symbols[i].length);
    if (auto it = token_ids_.find(symbol); it != token_ids_.end()) {
      out.push_back(it->second);
      continue;
    }
    for (unsigned char byte : symbol) out.push_back(byte_ids_[byte]);
  }
}

std::string SpmTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (vocabulary_.token_types[id] == kByte) {
      unsigned int byte = 0;
      std::sscanf(vocabulary_.tokens[id].c_str(), "<0x%2X>", &byte);
      text.push_back(static_cast<char>(byte));
      continue;
    }
    text += absl::StrReplaceAll(vocabulary_.tokens[id], {{kSpaceMark, " "}});
  }
  return text;
}

}  // namespace kvlab::tokenizer

#include "eval/tokenizer/bpe_tokenizer.h"

#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/annotate.h"
#include "base/status_macros.h"
#include "eval/tokenizer/byte_alphabet.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

// A symbol in the merge loop: a byte range of the word, linked to its neighbours.
struct Symbol {
  int prev;
  int next;
  size_t begin;
  size_t length;  // 0 once merged into its left neighbour.
};

struct Candidate {
  int32_t rank;
  int left;
  size_t length;  // Combined length when queued; a mismatch later means stale.
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : left > other.left;
  }
};

constexpr int32_t kUserDefined = 4;

// The user-defined tokens' texts and ids.
std::pair<std::vector<std::string>, std::vector<int32_t>> UserDefinedTokens(
    const BpeVocabulary& vocabulary) {
  std::pair<std::vector<std::string>, std::vector<int32_t>> tokens;
  for (size_t i = 0; i < vocabulary.token_types.size(); ++i) {
    if (vocabulary.token_types[i] != kUserDefined) continue;
    tokens.first.push_back(vocabulary.tokens[i]);
    tokens.second.push_back(static_cast<int32_t>(i));
  }
  return tokens;
}

}  // namespace

absl::StatusOr<BpeTokenizer> BpeTokenizer::FromGguf(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string model, file.GetString("tokenizer.ggml.model"));
  if (model != "gpt2") {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tokenizer.ggml.model is '%s'; kvlab supports byte-level BPE ('gpt2') only",
        file.path(), model));
  }
  BpeVocabulary vocabulary;
  KVLAB_ASSIGN_OR_RETURN(vocabulary.tokens, file.GetStringArray("tokenizer.ggml.tokens"));
  KVLAB_ASSIGN_OR_RETURN(vocabulary.merges, file.GetStringArray("tokenizer.ggml.merges"));
  if (file.FindMetadata("tokenizer.ggml.token_type") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> types,
                           file.GetIntArray("tokenizer.ggml.token_type"));
    vocabulary.token_types.assign(types.begin(), types.end());
  }
  if (file.FindMetadata("tokenizer.ggml.pre") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(vocabulary.pre_tokenizer, file.GetString("tokenizer.ggml.pre"));
  }
  if (file.FindMetadata("tokenizer.ggml.bos_token_id") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t bos, file.GetInt("tokenizer.ggml.bos_token_id"));
    vocabulary.bos_id = static_cast<int32_t>(bos);
  }
  if (file.FindMetadata("tokenizer.ggml.eos_token_id") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const int64_t eos, file.GetInt("tokenizer.ggml.eos_token_id"));
    vocabulary.eos_id = static_cast<int32_t>(eos);
  }
  // llama.cpp's default for BPE vocabularies is to add no BOS.
  if (file.FindMetadata("tokenizer.ggml.add_bos_token") != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(vocabulary.add_bos, file.GetBool("tokenizer.ggml.add_bos_token"));
  }
  absl::StatusOr<BpeTokenizer> tokenizer = FromVocabulary(std::move(vocabulary));
  if (!tokenizer.ok()) {
    return Annotate(tokenizer.status(), file.path());
  }
  return tokenizer;
}

absl::StatusOr<BpeTokenizer> BpeTokenizer::FromVocabulary(BpeVocabulary vocabulary) {
  if (vocabulary.tokens.empty()) {
    return absl::InvalidArgumentError("tokenizer.ggml.tokens is empty");
  }
  const int64_t n = static_cast<int64_t>(vocabulary.tokens.size());
  if (!vocabulary.token_types.empty() && static_cast<int64_t>(vocabulary.token_types.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tokenizer.ggml.token_type has %d entries for %d tokens",
                        vocabulary.token_types.size(), n));
  }
  KVLAB_RETURN_IF_ERROR(
      CheckSpecialTokenIds(n, vocabulary.bos_id, vocabulary.eos_id, vocabulary.add_bos));
  KVLAB_ASSIGN_OR_RETURN(PreTokenizer pre, PreTokenizer::ForName(vocabulary.pre_tokenizer));
  for (size_t i = 0; i < vocabulary.merges.size(); ++i) {
    const std::string& merge = vocabulary.merges[i];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 >= merge.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "tokenizer.ggml.merges[%d] is '%s', expected two symbols separated by a space", i,
          merge));
    }
  }
  return BpeTokenizer(std::move(vocabulary), std::move(pre));
}

BpeTokenizer::BpeTokenizer(BpeVocabulary vocabulary, PreTokenizer pre_tokenizer)
    : vocabulary_(std::move(vocabulary)),
      pre_tokenizer_(std::move(pre_tokenizer)),
      byte_to_symbol_(MakeByteAlphabet()),
      user_defined_splitter_(UserDefinedTokens(vocabulary_).first,
                             UserDefinedTokens(vocabulary_).second) {
  token_ids_.reserve(vocabulary_.tokens.size());
  for (size_t i = 0; i < vocabulary_.tokens.size(); ++i) {
    // The first occurrence wins if a vocabulary repeats a string.
    token_ids_.emplace(vocabulary_.tokens[i], static_cast<int32_t>(i));
  }
  merge_ranks_.reserve(vocabulary_.merges.size());
  for (size_t i = 0; i < vocabulary_.merges.size(); ++i) {
    merge_ranks_.emplace(vocabulary_.merges[i], static_cast<int32_t>(i));
  }
}

std::vector<int32_t> BpeTokenizer::Encode(absl::string_view text, bool add_bos) {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  if (add_bos && vocabulary_.bos_id >= 0) ids.push_back(vocabulary_.bos_id);
  for (const TextPiece& piece : user_defined_splitter_.Split(text)) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      continue;
    }
    for (const std::string& word : pre_tokenizer_.Split(piece.text)) EncodeWord(word, ids);
  }
  return ids;
}

void BpeTokenizer::EncodeWord(const std::string& word, std::vector<int32_t>& out) {
  if (auto it = word_cache_.find(word); it != word_cache_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  // The word in GPT-2's byte alphabet; each symbol starts as one byte's stand-in.
  std::string encoded;
  std::vector<Symbol> symbols;
  for (unsigned char byte : word) {
    const std::string& s = byte_to_symbol_[byte];
    const int index = static_cast<int>(symbols.size());
    symbols.push_back(Symbol{index - 1, index + 1, encoded.size(), s.size()});
    encoded += s;
  }
  if (!symbols.empty()) symbols.back().next = -1;
  if (pre_tokenizer_.ignore_merges()) {
    if (auto it = token_ids_.find(encoded); it != token_ids_.end()) {
      out.push_back(it->second);
      word_cache_.emplace(word, std::vector<int32_t>{it->second});
      return;
    }
  }

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  std::string pair;
  auto try_queue = [&](int left) {
    if (left < 0) return;
    const int right = symbols[left].next;
    if (right < 0) return;
    pair.assign(encoded, symbols[left].begin, symbols[left].length);
    pair += ' ';
    pair.append(encoded, symbols[right].begin, symbols[right].length);
    auto it = merge_ranks_.find(pair);
    if (it == merge_ranks_.end()) return;
    queue.push(Candidate{it->second, left, symbols[left].length + symbols[right].length});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) try_queue(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    // Stale if either side has since been merged elsewhere.
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (left.length + right.length != c.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = c.left;
    try_queue(left.prev);
    try_queue(c.left);
  }

  std::vector<int32_t> ids;
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    const std::string symbol = encoded.substr(symbols[i].begin, symbols[i].length);
    if (auto it = token_ids_.find(symbol); it != token_ids_.end()) {
      ids.push_back(it->second);
      continue;
    }
    // Not in the vocabulary: one token per byte stand-in, skipping any that is absent.
    for (const std::vector<char32_t> cps = DecodeUtf8(symbol); char32_t cp : cps) {
      std::string one;
      AppendUtf8(cp, one);
      if (auto byte_it = token_ids_.find(one); byte_it != token_ids_.end()) {
        ids.push_back(byte_it->second);
      }
    }
  }
  out.insert(out.end(), ids.begin(), ids.end());
  word_cache_.emplace(word, std::move(ids));
}

std::string BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const std::string& token = vocabulary_.tokens[id];
    const bool special = !vocabulary_.token_types.empty() && vocabulary_.token_types[id] != 1 &&
                         vocabulary_.token_types[id] != 6;
    if (special) {
      text += token;
      continue;
    }
    AppendByteAlphabetDecoded(token, text);
  }
  return text;
}

}  // namespace kvlab::tokenizer

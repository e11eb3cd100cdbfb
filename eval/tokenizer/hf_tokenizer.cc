#include "eval/tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "eval/tokenizer/byte_alphabet.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

HfAddedTokenSplitter MakeSplitter(const std::vector<HfAddedToken>& tokens,
                                  const HfNormalizer& normalizer, bool normalized) {
  std::vector<HfAddedToken> chosen;
  std::vector<std::string> patterns;
  for (const HfAddedToken& token : tokens) {
    if (token.normalized != normalized) continue;
    chosen.push_back(token);
    // A normalized token is looked for in its normalized form, as `tokenizers` does.
    patterns.push_back(normalized ? normalizer.Apply(token.content) : token.content);
  }
  return HfAddedTokenSplitter(chosen, patterns);
}

}  // namespace

HfTokenizer::HfTokenizer(HfTokenizerParts parts)
    : parts_(std::move(parts)),
      raw_splitter_(MakeSplitter(parts_.added_tokens, parts_.normalizer, false)),
      normalized_splitter_(MakeSplitter(parts_.added_tokens, parts_.normalizer, true)) {
  int32_t size = 0;
  for (const auto& [text, id] : parts_.model.vocab()) size = std::max(size, id + 1);
  for (const HfAddedToken& token : parts_.added_tokens) size = std::max(size, token.id + 1);
  id_to_token_.resize(size);
  is_added_.assign(size, false);
  for (const auto& [text, id] : parts_.model.vocab()) id_to_token_[id] = text;
  for (const HfAddedToken& token : parts_.added_tokens) {
    id_to_token_[token.id] = token.content;
    is_added_[token.id] = true;
  }
}

std::vector<int32_t> HfTokenizer::Encode(absl::string_view text, bool add_bos) {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  if (add_bos && parts_.bos_id >= 0) ids.push_back(parts_.bos_id);
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = ToValidUtf8(text);
    text = repaired;
  }
  for (const TextPiece& piece : raw_splitter_.Split(text)) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      continue;
    }
    const std::string normalized = parts_.normalizer.Apply(piece.text);
    bool at_text_start = piece.text.data() == text.data();
    for (const TextPiece& inner : normalized_splitter_.Split(normalized)) {
      if (inner.id >= 0) {
        ids.push_back(inner.id);
      } else {
        EncodeText(inner.text, at_text_start, ids);
      }
      at_text_start = false;
    }
  }
  return ids;
}

void HfTokenizer::EncodeText(absl::string_view text, bool at_text_start,
                             std::vector<int32_t>& out) {
  for (const std::string& word : parts_.pre_tokenizer.Split(text, at_text_start)) {
    parts_.model.Tokenize(word, out);
  }
}

std::string HfTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const std::string& token = id_to_token_[id];
    if (is_added_[id]) {
      text += token;
    } else if (parts_.pre_tokenizer.byte_level()) {
      AppendByteAlphabetDecoded(token, text);
    } else if (unsigned int byte; token.size() == 6 &&
                                  std::sscanf(token.c_str(), "<0x%2X>", &byte) == 1 &&
                                  parts_.model.byte_ids()[byte] == id) {
      text.push_back(static_cast<char>(byte));
    } else if (!parts_.space_mark.empty()) {
      text += absl::StrReplaceAll(token, {{parts_.space_mark, " "}});
    } else {
      text += token;
    }
  }
  if (parts_.prepends_space_mark && absl::StartsWith(text, " ")) text.erase(0, 1);
  return text;
}

}  // namespace kvlab::tokenizer

#include "eval/model/vocabulary_agreement.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "eval/tokenizer/hf_tokenizer_json.h"

namespace kvlab::model {

namespace {

// config.json's `field` (bos_token_id, eos_token_id) as the ids it allows: one integer
// or a list of them; empty when absent, null or of another form.
std::vector<int64_t> ConfigIds(const HfConfig& config, const std::string& field) {
  std::vector<int64_t> ids;
  const nlohmann::json* value = config.Find(field);
  if (value == nullptr) return ids;
  if (value->is_number_integer()) ids.push_back(value->get<int64_t>());
  if (value->is_array()) {
    for (const nlohmann::json& id : *value) {
      if (id.is_number_integer()) ids.push_back(id.get<int64_t>());
    }
  }
  return ids;
}

absl::Status CheckSpecialToken(const HfConfig& config, const std::string& tokenizer_file,
                               const std::string& field, const char* role, int32_t id) {
  const std::vector<int64_t> allowed = ConfigIds(config, field);
  if (allowed.empty() || id < 0) return absl::OkStatus();
  for (const int64_t a : allowed) {
    if (a == id) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s gives %s the id %d, but %s's %s is %s: the tokenizer does not belong to this model",
      tokenizer_file, role, id, config.path(), field,
      allowed.size() == 1 ? absl::StrCat(allowed[0])
                          : absl::StrCat("[", absl::StrJoin(allowed, ", "), "]")));
}

// A Hugging Face model's config.json and `tokenizer` (from `tokenizer_file`) agree on
// the vocabulary's size, BOS and EOS.
absl::Status CheckHfAgreement(const tokenizer::Tokenizer& tokenizer,
                              const std::string& tokenizer_file, const HfConfig& config,
                              const ModelInfo& info) {
  const int64_t tokens = tokenizer.vocab_size();
  if (std::abs(tokens - info.vocab) > kVocabularySlack) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s holds %d tokens, but %s's vocab_size is %d: more than %d apart, so the tokenizer "
        "does not belong to this model",
        tokenizer_file, tokens, config.path(), info.vocab, kVocabularySlack));
  }
  if (absl::Status s =
          CheckSpecialToken(config, tokenizer_file, "bos_token_id", "BOS", tokenizer.bos_id());
      !s.ok()) {
    return s;
  }
  return CheckSpecialToken(config, tokenizer_file, "eos_token_id", "EOS", tokenizer.eos_id());
}

// `tokens` in VocabularyHash's canonical form: llama.cpp's "[PAD<id>]" placeholders
// as empty strings, trailing empty strings dropped.
std::vector<std::string> CanonicalTokens(const std::vector<std::string>& tokens) {
  std::vector<std::string> canonical = tokens;
  for (size_t id = 0; id < canonical.size(); ++id) {
    absl::string_view t = canonical[id];
    size_t number = 0;
    if (absl::ConsumePrefix(&t, "[PAD") && absl::ConsumeSuffix(&t, "]") &&
        absl::SimpleAtoi(t, &number) && number == id) {
      canonical[id].clear();
    }
  }
  while (!canonical.empty() && canonical.back().empty()) canonical.pop_back();
  return canonical;
}

std::string HashCanonical(const std::vector<std::string>& canonical) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (const std::string& token : canonical) {
    const uint32_t size = static_cast<uint32_t>(token.size());
    const unsigned char length[4] = {static_cast<unsigned char>(size),
                                     static_cast<unsigned char>(size >> 8),
                                     static_cast<unsigned char>(size >> 16),
                                     static_cast<unsigned char>(size >> 24)};
    XXH3_128bits_update(state, length, sizeof(length));
    XXH3_128bits_update(state, token.data(), token.size());
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return absl::StrFormat("%016x%016x", hash.high64, hash.low64);
}

// A token for a one-line message: control bytes escaped, quoted, shortened (at a
// character's first byte).
std::string Quote(const std::vector<std::string>& canonical, size_t id) {
  if (id >= canonical.size() || canonical[id].empty()) return "no token";
  std::string escaped = absl::Utf8SafeCEscape(canonical[id]);
  if (escaped.size() > 40) {
    size_t end = 40;
    while (end > 0 && (static_cast<unsigned char>(escaped[end]) & 0xC0) == 0x80) --end;
    escaped = escaped.substr(0, end) + "...";
  }
  return absl::StrCat("'", escaped, "'");
}

// Whether `tokens` (from `tokenizer_file`) are `model_tokens` (from `model_source`).
absl::Status CompareVocabularies(const std::vector<std::string>& tokens,
                                 const std::string& tokenizer_file,
                                 const std::vector<std::string>& model_tokens,
                                 const std::string& model_source) {
  const std::vector<std::string> a = CanonicalTokens(tokens);
  const std::vector<std::string> b = CanonicalTokens(model_tokens);
  const std::string hash_a = HashCanonical(a);
  const std::string hash_b = HashCanonical(b);
  if (hash_a == hash_b) return absl::OkStatus();
  size_t id = 0;
  while (id < a.size() && id < b.size() && a[id] == b[id]) ++id;
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: its vocabulary is not %s: at id %d the model has %s and the tokenizer %s "
      "(vocabulary hashes: the model's %s of %d tokens, the tokenizer's %s of %d); the "
      "tokenizer does not belong to this model",
      tokenizer_file, model_source, id, Quote(b, id), Quote(a, id), hash_b, model_tokens.size(),
      hash_a, tokens.size()));
}

}  // namespace

std::string VocabularyHash(const std::vector<std::string>& tokens) {
  return HashCanonical(CanonicalTokens(tokens));
}

absl::Status CheckSeparateTokenizer(const tokenizer::Tokenizer& tokenizer,
                                    const std::string& tokenizer_file, const ModelFiles& files,
                                    const ModelInfo& info) {
  if (files.gguf() != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const std::vector<std::string> model_tokens,
                           files.gguf()->GetStringArray("tokenizer.ggml.tokens"));
    return CompareVocabularies(tokenizer.tokens(), tokenizer_file, model_tokens,
                               absl::StrCat(files.path(), "'s (tokenizer.ggml.tokens)"));
  }
  const std::string own = files.hf()->dir() + "/tokenizer.json";
  std::error_code error;
  if (std::filesystem::is_regular_file(own, error)) {
    KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<tokenizer::Tokenizer> model_tokenizer,
                           tokenizer::TokenizerFromJson(own));
    KVLAB_RETURN_IF_ERROR(
        CompareVocabularies(tokenizer.tokens(), tokenizer_file, model_tokenizer->tokens(),
                            absl::StrCat(own, "'s")));
  }
  return CheckHfAgreement(tokenizer, tokenizer_file, files.hf()->config(), info);
}

absl::Status CheckVocabularyAgreement(const tokenizer::Tokenizer& tokenizer,
                                      const ModelFiles& files, const ModelInfo& info) {
  const int64_t tokens = tokenizer.vocab_size();
  if (files.gguf() != nullptr) {
    if (tokens == info.vocab) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tokenizer.ggml.tokens lists %d tokens, but token_embd.weight has %d rows (one "
        "per token)",
        files.path(), tokens, info.vocab));
  }
  return CheckHfAgreement(tokenizer, files.hf()->dir() + "/tokenizer.json", files.hf()->config(),
                          info);
}

absl::Status CheckTextTokens(absl::Span<const int32_t> ids, const ModelFiles& files,
                             const ModelInfo& info, const std::string& tokenizer_file) {
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] >= 0 && ids[k] < info.vocab) continue;
    const bool gguf = files.gguf() != nullptr;
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s gives the text the id %d (token %d), which %s has no embedding row for (%s is %d)",
        !tokenizer_file.empty() ? tokenizer_file
        : gguf                  ? files.path()
                                : files.hf()->dir() + "/tokenizer.json",
        ids[k], k,
        gguf ? files.path() : files.hf()->config().path(),
        gguf ? "token_embd.weight's rows" : "vocab_size", info.vocab));
  }
  return absl::OkStatus();
}

}  // namespace kvlab::model

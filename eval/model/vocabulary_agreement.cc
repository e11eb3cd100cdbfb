#include "eval/model/vocabulary_agreement.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

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

}  // namespace

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
  const HfConfig& config = files.hf()->config();
  const std::string tokenizer_file = files.hf()->dir() + "/tokenizer.json";
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

absl::Status CheckTextTokens(absl::Span<const int32_t> ids, const ModelFiles& files,
                             const ModelInfo& info) {
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] >= 0 && ids[k] < info.vocab) continue;
    const bool gguf = files.gguf() != nullptr;
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s gives the text the id %d (token %d), which %s has no embedding row for (%s is %d)",
        gguf ? files.path() : files.hf()->dir() + "/tokenizer.json", ids[k], k,
        gguf ? files.path() : files.hf()->config().path(),
        gguf ? "token_embd.weight's rows" : "vocab_size", info.vocab));
  }
  return absl::OkStatus();
}

}  // namespace kvlab::model

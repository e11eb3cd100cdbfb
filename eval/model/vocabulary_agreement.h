// Whether a tokenizer belongs to a model: a tokenizer from another model (or an edited
// one) still gives ids, and the model still gives a perplexity, which then means
// nothing. Checked once, at load, from what the files declare:
//   - a GGUF file: its tokenizer's tokens (tokenizer.ggml.tokens) are the rows of its
//     embedding (token_embd.weight), one for one, as llama.cpp requires;
//   - a Hugging Face directory: tokenizer.json's token count and config.json's
//     vocab_size differ by at most kVocabularySlack (checkpoints pad their embedding
//     to a round size, Qwen2.5's 151665 tokens in 151936 rows; a text-only Gemma 3
//     keeps the tokenizer's image token without a row); config.json's bos_token_id
//     and eos_token_id (one id or a list), where given, are the tokenizer's BOS and
//     EOS; and every id of the encoded text has a row (CheckTextTokens).
// Each mismatch is an InvalidArgument naming both files (or both keys of one GGUF).
#ifndef KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_
#define KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "eval/model/decoder_model.h"
#include "eval/model/load_model.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::model {

// How far a Hugging Face tokenizer's token count and the model's vocab_size may differ.
inline constexpr int64_t kVocabularySlack = 1024;

// `tokenizer` was read from the model at `files` (TokenizerFromModelPath); `info` is
// the model's description (ReadModelInfo or DecoderModel::info()).
absl::Status CheckVocabularyAgreement(const tokenizer::Tokenizer& tokenizer,
                                      const ModelFiles& files, const ModelInfo& info);

// Every id of `ids` (a text as the model's tokenizer encoded it) has an embedding row:
// else an InvalidArgument naming the id, its place, the tokenizer's file and the model's.
absl::Status CheckTextTokens(absl::Span<const int32_t> ids, const ModelFiles& files,
                             const ModelInfo& info);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_

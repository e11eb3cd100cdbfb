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
// A tokenizer read from a file of its own (an experiment's tokenizer_path, e.g. a Hugging
// Face tokenizer.json beside a GGUF converted from that model) must hold the model's own
// vocabulary token for token, compared by VocabularyHash (CheckSeparateTokenizer).
// Each mismatch is an InvalidArgument naming both files (or both keys of one GGUF).
#ifndef KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_
#define KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

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

// The hash that identifies a vocabulary: XXH3-128, as 32 hex digits, of its canonical
// form, the token strings in id order, each written as its byte length (4 bytes, little
// endian) and then its bytes exactly as the file stores them (tokenizer.json's
// model.vocab keys and added tokens' content, GGUF's tokenizer.ggml.tokens: GPT-2's
// byte alphabet, U+2581 for spaces). An id the file names no token for (a gap in
// tokenizer.json's ids, or the "[PAD<id>]" placeholder llama.cpp's convert_hf_to_gguf.py
// writes in its place) is the empty string, and empty strings at the end are left out,
// so a GGUF padded to its embedding's rows hashes as the tokenizer.json it came from.
std::string VocabularyHash(const std::vector<std::string>& tokens);

// `tokenizer`, read from `tokenizer_file` (a tokenizer.json, or a directory holding
// one), encodes the text for the model at `files` instead of the model's own tokenizer.
// Its vocabulary must hash as the model's own does (VocabularyHash): the GGUF's
// tokenizer.ggml.tokens, or a model directory's tokenizer.json; a model directory
// without one has only config.json to agree with (size, BOS and EOS, as
// CheckVocabularyAgreement checks). Else an InvalidArgument naming both files, both
// hashes and the first id whose token differs.
absl::Status CheckSeparateTokenizer(const tokenizer::Tokenizer& tokenizer,
                                    const std::string& tokenizer_file, const ModelFiles& files,
                                    const ModelInfo& info);

// Every id of `ids` (a text as the model's tokenizer encoded it) has an embedding row:
// else an InvalidArgument naming the id, its place, the tokenizer's file and the model's.
// `tokenizer_file` names a tokenizer read from a file of its own; empty for the model's.
absl::Status CheckTextTokens(absl::Span<const int32_t> ids, const ModelFiles& files,
                             const ModelInfo& info, const std::string& tokenizer_file = "");

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_VOCABULARY_AGREEMENT_H_

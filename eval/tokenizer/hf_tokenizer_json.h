// Reads a Hugging Face tokenizer.json (the `tokenizers` library's file) into a
// Tokenizer (hf_tokenizer.h), with tokenizer_config.json beside it when present.
//
// What is read: version (1.0), model (type "BPE": vocab, merges as "a b" strings or
// [a, b] pairs, byte_fallback, unk_token, fuse_unk, ignore_merges), normalizer (NFC, NFD,
// NFKC, NFKD, Replace of a literal string, Prepend, Sequence), pre_tokenizer (ByteLevel,
// Digits, Split at a literal string or at GPT-2's, Llama 3's or Qwen2's regex with any
// behavior, Metaspace, Sequence), added_tokens (their ids checked against those
// `tokenizers` gives them), and the post_processor's template (a BOS before the text).
// tokenizer_config.json's add_bos_token, bos_token and eos_token, when given, take
// precedence over the template, as transformers 4's Llama tokenizers let them (transformers
// 5.2's AutoTokenizer keeps the template and reads add_bos_token nowhere); a bos_token
// other than the template's, without add_bos_token, is an error, and so is
// add_eos_token true (kvlab appends no EOS). The decoder is not read (see HfTokenizer::Decode). truncation and padding
// are not read either: they shape a batch of model inputs, and transformers, through
// which these files are used, turns both off unless a call asks for them, as kvlab's
// callers never do. Anything else that changes encoding (another model type or step,
// dropout, word prefixes and suffixes) is an error naming the field, as is any malformed
// input, and a file lacking a field that `tokenizers` requires and that changes encoding
// (fields that do not, such as ByteLevel's trim_offsets, are not looked for); every
// error is one line beginning with the file's path.
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer,
//                          TokenizerFromJson("models/gemma/tokenizer.json"));
#ifndef KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_JSON_H_
#define KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_JSON_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/tokenizer/tokenizer.h"

namespace kvlab::tokenizer {

// Reads `path` and, if it exists, tokenizer_config.json in the same directory.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromJson(const std::string& path);

// The same from the files' contents: `config_json` is empty when there is no
// tokenizer_config.json; `source` and `config_source` name the files in errors.
absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromJsonText(
    absl::string_view tokenizer_json, absl::string_view config_json, absl::string_view source,
    absl::string_view config_source);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_TOKENIZER_JSON_H_

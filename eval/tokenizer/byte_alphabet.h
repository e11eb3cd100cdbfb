// GPT-2's byte alphabet: every byte written as a printable code point, so that byte-level
// BPE vocabularies (GGUF `gpt2` tokenizers, Hugging Face's ByteLevel pre-tokenizer) can
// hold arbitrary bytes as text. Printable Latin-1 bytes stand for themselves; the other
// 68 bytes map, in order, to U+0100 onwards.
#ifndef KVLAB_EVAL_TOKENIZER_BYTE_ALPHABET_H_
#define KVLAB_EVAL_TOKENIZER_BYTE_ALPHABET_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

// The UTF-8 of each byte's stand-in, indexed by byte.
std::vector<std::string> MakeByteAlphabet();

// Appends the bytes `token` stands for: each character of the alphabet as its byte, any
// other character (a vocabulary's added or control tokens hold some) as its own UTF-8.
void AppendByteAlphabetDecoded(absl::string_view token, std::string& out);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_BYTE_ALPHABET_H_

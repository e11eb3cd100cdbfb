// Unicode helpers for the byte-level BPE tokenizer: UTF-8 decoding and the character
// classes that GPT-2-style pre-tokenizer regexes use.
#ifndef KVLAB_EVAL_TOKENIZER_UNICODE_TEXT_H_
#define KVLAB_EVAL_TOKENIZER_UNICODE_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

// U+FFFD, which replaces each byte that does not start a well-formed sequence.
inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes UTF-8 into code points. A byte that does not start a complete sequence
// becomes one U+FFFD and decoding resumes at the next byte; this is llama.cpp's
// leniency, so that both split malformed text the same way.
std::vector<char32_t> DecodeUtf8(absl::string_view text);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values beyond
// U+10FFFF), as ICU judges it.
bool IsValidUtf8(absl::string_view text);

// Bytes of the UTF-8 sequence that starts at text[at], read from its lead byte alone,
// for text already known to be well-formed (at most what is left of `text`).
size_t Utf8SequenceLength(absl::string_view text, size_t at);

// `text` made well-formed: each byte that does not begin a well-formed sequence (as ICU
// judges: no overlong forms, surrogates or values beyond U+10FFFF) becomes one U+FFFD.
// Unlike re-encoding what DecodeUtf8 reads, which keeps surrogates and values beyond
// U+10FFFF, the result is always valid.
std::string ToValidUtf8(absl::string_view text);

// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(char32_t cp, std::string& out);

// Character classes of the pre-tokenizer regexes.
bool IsLetter(char32_t cp);      // \p{L}
bool IsNumber(char32_t cp);      // \p{N}
bool IsWhitespace(char32_t cp);  // \s: the Unicode White_Space property
// \w as Rust's regex crate reads it (Unicode's definition): Alphabetic, a mark, a
// decimal digit, connector punctuation or a joiner.
bool IsWordCharacter(char32_t cp);

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_UNICODE_TEXT_H_

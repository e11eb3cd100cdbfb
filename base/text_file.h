// Reading a file that must hold text: well-formed UTF-8 with no NUL byte.
//
// A perplexity is a statement about text. A binary file, a file in another encoding or
// a run of NUL bytes still tokenizes (byte-level tokenizers take any bytes) and gives a
// number, which means nothing; CheckText refuses them, naming the first bad byte.
//
//   KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path, /*raw_bytes=*/false));
#ifndef KVLAB_BASE_TEXT_FILE_H_
#define KVLAB_BASE_TEXT_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// OK if `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code
// points beyond U+10FFFF) without a NUL byte; else InvalidArgument naming `path`, the
// offset of the first bad byte and the byte, e.g.
// "t.txt: not UTF-8 text: byte 0xff at offset 17 starts no UTF-8 character".
absl::Status CheckText(absl::string_view path, absl::string_view bytes);

// The contents of `path`, checked by CheckText unless `raw_bytes`.
absl::StatusOr<std::string> ReadTextFile(const std::string& path, bool raw_bytes);

}  // namespace kvlab

#endif  // KVLAB_BASE_TEXT_FILE_H_

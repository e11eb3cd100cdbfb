#include "eval/tokenizer/tokenizer.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace kvlab::tokenizer {

absl::Status CheckSpecialTokenIds(int64_t vocab_size, int32_t bos_id, int32_t eos_id,
                                  bool add_bos) {
  for (const auto& [name, id] :
       {std::pair<const char*, int32_t>{"bos", bos_id}, {"eos", eos_id}}) {
    if (id >= vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrFormat("tokenizer.ggml.%s_token_id is %d but the vocabulary has %d tokens",
                          name, id, vocab_size));
    }
  }
  if (add_bos && bos_id < 0) {
    return absl::InvalidArgumentError("tokenizer.ggml.add_bos_token is set but there is no BOS id");
  }
  return absl::OkStatus();
}

}  // namespace kvlab::tokenizer

// How an instruct model expects a conversation: its chat template, recognised from the
// GGUF's `tokenizer.chat_template`. kvlab does not evaluate Jinja; the families below
// are recognised by their turn markers and written out directly.
#ifndef KVLAB_EVAL_RETRIEVAL_CHAT_FORMAT_H_
#define KVLAB_EVAL_RETRIEVAL_CHAT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kvlab::retrieval {

enum class ChatStyle {
  kNone,    // A base model, or a template not recognised: the text as it is.
  kChatMl,  // <|im_start|>role\n...<|im_end|>\n (SmolLM2, Qwen).
  kGemma,   // <start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n (Gemma).
};

struct ChatFormat {
  ChatStyle style = ChatStyle::kNone;
  // ChatML: the system turn the template writes when a conversation has none (SmolLM2's
  // and Qwen's do), when it is a literal in the template; empty: no system turn.
  std::string default_system;
};

ChatFormat DetectChatFormat(absl::string_view chat_template);

const char* ChatStyleName(ChatStyle style);

// One user turn, then the start of the model's turn with `answer_prefix` already
// written, for the model to continue.
std::string FormatUserTurn(const ChatFormat& format, absl::string_view user,
                           absl::string_view answer_prefix);

}  // namespace kvlab::retrieval

#endif  // KVLAB_EVAL_RETRIEVAL_CHAT_FORMAT_H_

#include "eval/retrieval/chat_format.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kvlab::retrieval {

namespace {

// The literal text between "<|im_start|>system\n" and "<|im_end|>" in a template, or
// "" when there is none or it is computed (holds template syntax).
std::string LiteralSystemTurn(absl::string_view chat_template) {
  constexpr absl::string_view kStart = "<|im_start|>system\n";
  const size_t start = chat_template.find(kStart);
  if (start == absl::string_view::npos) return "";
  const size_t begin = start + kStart.size();
  const size_t end = chat_template.find("<|im_end|>", begin);
  if (end == absl::string_view::npos) return "";
  const absl::string_view text = chat_template.substr(begin, end - begin);
  for (absl::string_view syntax : {"{{", "{%", "'", "\"", "+"}) {
    if (absl::StrContains(text, syntax)) return "";
  }
  return std::string(text);
}

}  // namespace

ChatFormat DetectChatFormat(absl::string_view chat_template) {
  ChatFormat format;
  if (absl::StrContains(chat_template, "<|im_start|>")) {
    format.style = ChatStyle::kChatMl;
    format.default_system = LiteralSystemTurn(chat_template);
  } else if (absl::StrContains(chat_template, "<start_of_turn>")) {
    format.style = ChatStyle::kGemma;
  }
  return format;
}

const char* ChatStyleName(ChatStyle style) {
  switch (style) {
    case ChatStyle::kChatMl: return "chatml";
    case ChatStyle::kGemma: return "gemma";
    case ChatStyle::kNone: break;
  }
  return "none";
}

std::string FormatUserTurn(const ChatFormat& format, absl::string_view user,
                           absl::string_view answer_prefix) {
  switch (format.style) {
    case ChatStyle::kChatMl: {
      std::string system;
      if (!format.default_system.empty()) {
        system = absl::StrCat("<|im_start|>system\n", format.default_system, "<|im_end|>\n");
      }
      return absl::StrCat(system, "<|im_start|>user\n", user,
                          "<|im_end|>\n<|im_start|>assistant\n", answer_prefix);
    }
    case ChatStyle::kGemma:
      return absl::StrCat("<start_of_turn>user\n", user, "<end_of_turn>\n<start_of_turn>model\n",
                          answer_prefix);
    case ChatStyle::kNone: break;
  }
  return absl::StrCat(user, "\n", answer_prefix);
}

}  // namespace kvlab::retrieval

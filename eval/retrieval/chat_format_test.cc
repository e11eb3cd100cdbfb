#include "eval/retrieval/chat_format.h"

#include "gtest/gtest.h"

namespace kvlab::retrieval {
namespace {

// The shape of SmolLM2-Instruct's template: a literal default system turn.
constexpr char kSmolTemplate[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}";

TEST(ChatFormatTest, ChatMlWithItsLiteralSystemTurn) {
  const ChatFormat format = DetectChatFormat(kSmolTemplate);
  EXPECT_EQ(format.style, ChatStyle::kChatMl);
  EXPECT_EQ(format.default_system, "You are a helpful assistant");
  EXPECT_EQ(FormatUserTurn(format, "Hi?", "Answer:"),
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
            "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nAnswer:");
}

TEST(ChatFormatTest, ComputedSystemTurnIsLeftOut) {
  const ChatFormat format =
      DetectChatFormat("{{ '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>' }}");
  EXPECT_EQ(format.style, ChatStyle::kChatMl);
  EXPECT_EQ(format.default_system, "");
  EXPECT_EQ(FormatUserTurn(format, "Hi?", ""),
            "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormatTest, GemmaTurns) {
  const ChatFormat format = DetectChatFormat("{{ '<start_of_turn>' + role + '\n' }}");
  EXPECT_EQ(format.style, ChatStyle::kGemma);
  EXPECT_EQ(FormatUserTurn(format, "Hi?", "A:"),
            "<start_of_turn>user\nHi?<end_of_turn>\n<start_of_turn>model\nA:");
}

TEST(ChatFormatTest, NoTemplateIsPlainText) {
  const ChatFormat format = DetectChatFormat("");
  EXPECT_EQ(format.style, ChatStyle::kNone);
  EXPECT_EQ(FormatUserTurn(format, "Hi?", "A:"), "Hi?\nA:");
  EXPECT_STREQ(ChatStyleName(format.style), "none");
}

}  // namespace
}  // namespace kvlab::retrieval

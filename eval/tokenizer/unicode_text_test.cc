#include "eval/tokenizer/unicode_text.h"

#include <string>

#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

TEST(IsValidUtf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII\n"));
  EXPECT_TRUE(IsValidUtf8("Senj\xC5\x8D \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82"));
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(IsValidUtf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));                // never a lead byte
  EXPECT_FALSE(IsValidUtf8("\x82"));                // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xE6\x97"));            // truncated sequence
  EXPECT_FALSE(IsValidUtf8("\xE6(\xA5"));           // interrupted sequence
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));            // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));        // a surrogate, U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));    // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ok so far \xF0\x9F\x99"));
}

TEST(DecodeUtf8Test, EachMalformedByteIsOneReplacementCharacter) {
  EXPECT_EQ(DecodeUtf8("a\xFF" "b"), (std::vector<char32_t>{U'a', kReplacementCharacter, U'b'}));
  EXPECT_EQ(DecodeUtf8("\xC5\x8D"), (std::vector<char32_t>{0x14D}));
}

}  // namespace
}  // namespace kvlab::tokenizer

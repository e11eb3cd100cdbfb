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

// Surrogates and values beyond U+10FFFF, which DecodeUtf8 passes through, are
// replaced too, byte by byte.
TEST(ToValidUtf8Test, EachByteOfAMalformedSequenceIsOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(ToValidUtf8("plain \xC5\x8D \xF0\x9F\x99\x82"), "plain \xC5\x8D \xF0\x9F\x99\x82");
  EXPECT_EQ(ToValidUtf8("a\xFF" "b"), "a" + fffd + "b");
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), fffd + fffd + fffd);
  EXPECT_EQ(ToValidUtf8("\xF6\xB6\xB6\xB6x"), fffd + fffd + fffd + fffd + "x");
  EXPECT_EQ(ToValidUtf8("\xE6\x97"), fffd + fffd);
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xC0\xAF\xF4\x90\x80\x80\xED\xBF\xBF")));
}

TEST(Utf8SequenceLengthTest, ReadsTheLeadByteAndStopsAtTheEnd) {
  const std::string text = "a\xC5\x8D\xE6\x97\xA5\xF0\x9F\x99\x82";
  EXPECT_EQ(Utf8SequenceLength(text, 0), 1u);
  EXPECT_EQ(Utf8SequenceLength(text, 1), 2u);
  EXPECT_EQ(Utf8SequenceLength(text, 3), 3u);
  EXPECT_EQ(Utf8SequenceLength(text, 6), 4u);
  EXPECT_EQ(Utf8SequenceLength(text.substr(0, 8), 6), 2u);
}

// Rust regex's \w: letters of any script, marks, decimal digits, '_' and the joiners.
TEST(IsWordCharacterTest, FollowsUnicodesWordClass) {
  for (char32_t cp : {U'a', U'Z', U'_', U'7', U'\u00E9', U'\u65E5', U'\u0301', U'\u0661',
                      U'\u200D', U'\u2163'}) {
    EXPECT_TRUE(IsWordCharacter(cp)) << static_cast<uint32_t>(cp);
  }
  for (char32_t cp : {U' ', U'-', U'.', U'<', U'\u00BD', U'\u00B2', U'\U0001F600', U'\u2581'}) {
    EXPECT_FALSE(IsWordCharacter(cp)) << static_cast<uint32_t>(cp);
  }
}

}  // namespace
}  // namespace kvlab::tokenizer

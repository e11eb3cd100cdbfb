#include "base/text_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;

TEST(CheckTextTest, WellFormedUtf8IsText) {
  EXPECT_THAT(CheckText("t.txt", ""), IsOk());
  EXPECT_THAT(CheckText("t.txt", "plain ASCII\nand a tab\t"), IsOk());
  EXPECT_THAT(CheckText("t.txt", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), IsOk());
}

TEST(CheckTextTest, TheErrorNamesTheFileTheOffsetAndTheByte) {
  EXPECT_THAT(CheckText("t.txt",
                        "abc\xff"
                        "def"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.txt: not UTF-8 text: byte 0xff at offset 3 starts no UTF-8 "
                                 "character (set raw_bytes_text: true")));
  // A sequence cut short, an overlong form, a surrogate, a code point past U+10FFFF.
  for (const std::string& bad : {std::string("ab\xc3"), std::string("ab\xc0\xaf"),
                                std::string("ab\xed\xa0\x80"), std::string("ab\xf4\x90\x80\x80")}) {
    EXPECT_THAT(CheckText("t.txt", bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("at offset 2 starts no UTF-8")))
        << bad;
  }
}

TEST(CheckTextTest, NulIsNotText) {
  EXPECT_THAT(CheckText("t.txt", std::string("ab\0c", 4)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.txt: not text: a NUL byte at offset 2")));
  EXPECT_THAT(CheckText("t.txt", std::string(100000, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL byte at offset 0")));
}

TEST(ReadTextFileTest, RawBytesSkipTheCheckAndDirectoriesAreNamed) {
  const std::string path = ::testing::TempDir() + "/binary.bin";
  std::ofstream(path, std::ios::binary) << std::string(
      "\x7f"
      "ELF\0\xff",
      6);
  EXPECT_THAT(ReadTextFile(path, /*raw_bytes=*/false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset 4")));
  EXPECT_THAT(ReadTextFile(path, /*raw_bytes=*/true), IsOkAndHolds(std::string("\x7f"
                                                                               "ELF\0\xff",
                                                                               6)));
  EXPECT_THAT(
      ReadTextFile(::testing::TempDir(), false),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is a directory; expected a file")));
  EXPECT_THAT(ReadTextFile(::testing::TempDir() + "/missing.txt", false),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.txt: cannot open")));
}

}  // namespace
}  // namespace kvlab

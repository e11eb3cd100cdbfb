#include "base/json_text.h"

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseJsonTextTest, ParsesAValue) {
  ASSERT_OK_AND_ASSIGN(const nlohmann::json json, ParseJsonText("a.json", R"({"x": [1, 2]})"));
  EXPECT_EQ(json["x"][1], 2);
}

TEST(ParseJsonTextTest, BadTextIsOneLineNamingTheFileAndByte) {
  const absl::Status status = ParseJsonText("dir/config.json", "{\"x\": \n\n tru}").status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("dir/config.json: not valid JSON (syntax error at byte")));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
  EXPECT_THAT(ParseJsonText("a.json", "{} trailing"), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(ParseJsonText("a.json", ""), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST(JsonTypeNameTest, NamesEachType) {
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("{}")), "object");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("[]")), "array");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("\"s\"")), "string");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("1.5")), "number");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("true")), "boolean");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::parse("null")), "null");
}

}  // namespace
}  // namespace kvlab

// Checks DequantizeToFloat against values decoded by ggml's own Python dequantizers
// (PyPI's gguf package) for random blocks of every quantized type kvlab reads.
// The vectors are written by testdata/make_reference_blocks.py.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/gguf/dequantize.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::gguf {
namespace {

TEST(DequantizeReferenceTest, MatchesGgufPackageBitForBit) {
  const absl::StatusOr<std::string> text =
      ReadFileToString("eval/gguf/testdata/reference_blocks.json");
  ASSERT_THAT(text, IsOk());
  const nlohmann::json reference = nlohmann::json::parse(*text);
  std::vector<std::string> checked;
  for (const nlohmann::json& c : reference.at("cases")) {
    const std::string name = c.at("type").get<std::string>();
    SCOPED_TRACE(name);
    const auto type = static_cast<TensorType>(c.at("type_id").get<uint32_t>());
    const std::string bytes = absl::HexStringToBytes(c.at("bytes_hex").get<std::string>());
    const std::vector<double> expected = c.at("values").get<std::vector<double>>();
    std::vector<float> out(expected.size());
    ASSERT_THAT(DequantizeToFloat(type,
                                  absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                      bytes.size()),
                                  absl::MakeSpan(out)),
                IsOk());
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], static_cast<float>(expected[i])) << "element " << i;
    }
    checked.push_back(name);
  }
  EXPECT_EQ(checked, (std::vector<std::string>{"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
                                               "Q3_K", "Q4_K", "Q5_K", "Q6_K"}));
}

}  // namespace
}  // namespace kvlab::gguf

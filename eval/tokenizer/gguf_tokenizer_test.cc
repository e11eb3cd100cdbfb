#include "eval/tokenizer/gguf_tokenizer.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/status_matchers.h"
#include "eval/gguf/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A SentencePiece-style vocabulary: <bos>, the 256 byte tokens, "▁", "h", "i", "hi",
// "▁hi".
gguf::GgufWriter SpmWriter(bool with_scores) {
  std::vector<std::string> tokens = {"<bos>"};
  std::vector<int32_t> types = {3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  for (const char* piece : {"\xE2\x96\x81", "h", "i", "hi", "\xE2\x96\x81hi"}) {
    tokens.push_back(piece);
    types.push_back(1);
  }
  gguf::GgufWriter w;
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", tokens);
  w.AddInt32Array("tokenizer.ggml.token_type", types);
  if (with_scores) {
    gguf::GgufValue::Array scores;
    for (size_t i = 0; i < tokens.size(); ++i) {
      scores.push_back(gguf::GgufValue::Float(gguf::ValueType::kFloat32, -static_cast<double>(i)));
    }
    w.AddMetadata("tokenizer.ggml.scores",
                  gguf::GgufValue::MakeArray(gguf::ValueType::kFloat32, std::move(scores)));
  }
  w.AddUint32("tokenizer.ggml.bos_token_id", 0);
  w.AddBool("tokenizer.ggml.add_space_prefix", true);
  return w;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> WriteAndLoad(const gguf::GgufWriter& w,
                                                        const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_THAT(w.WriteFile(path), IsOk());
  absl::StatusOr<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(path);
  EXPECT_THAT(file, IsOk());
  if (!file.ok()) return file.status();
  return TokenizerFromGguf(**file);
}

TEST(GgufTokenizerTest, LlamaModelIsSentencePieceStyle) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = WriteAndLoad(SpmWriter(true), "spm.gguf");
  ASSERT_THAT(t, IsOk());
  EXPECT_TRUE((*t)->add_bos());  // llama.cpp's default when the file does not say.
  // "hi" gets the space prefix; "h" + "i" then "▁" + "hi" merge into "▁hi" (id 261).
  EXPECT_THAT((*t)->Encode("hi", true), ElementsAre(0, 261));
}

TEST(GgufTokenizerTest, MissingScoresNameTheFileAndKey) {
  EXPECT_THAT(WriteAndLoad(SpmWriter(false), "no_scores.gguf"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("no_scores.gguf"), HasSubstr("tokenizer.ggml.scores"))));
}

// A byte-level BPE vocabulary is nothing without its merges: a file that lists tokens
// but no merges is an error naming the file and the key, not a tokenizer that spells
// every word byte by byte.
TEST(GgufTokenizerTest, MissingMergesNameTheFileAndKey) {
  gguf::GgufWriter w;
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddStringArray("tokenizer.ggml.tokens", {"h", "i", "hi"});
  EXPECT_THAT(WriteAndLoad(w, "no_merges.gguf"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("no_merges.gguf"), HasSubstr("tokenizer.ggml.merges"))));
}

TEST(GgufTokenizerTest, UnknownModelIsUnimplemented) {
  gguf::GgufWriter w;
  w.AddString("tokenizer.ggml.model", "bert");
  EXPECT_THAT(WriteAndLoad(w, "bert.gguf"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("bert.gguf"), HasSubstr("'bert'"))));
}

}  // namespace
}  // namespace kvlab::tokenizer

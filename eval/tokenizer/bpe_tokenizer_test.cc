#include "eval/tokenizer/bpe_tokenizer.h"

#include "base/status_matchers.h"
#include "eval/testing/default_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A vocabulary small enough to follow by hand: the 256 byte symbols, then merges.
BpeVocabulary TinyVocabulary() {
  BpeVocabulary v;
  v.pre_tokenizer = "gpt-2";
  for (int b = 0; b < 256; ++b) v.tokens.push_back("");
  // GPT-2's alphabet maps printable ASCII to itself and space to U+0120 ("\xc4\xa0").
  for (int b = 0x21; b <= 0x7E; ++b) v.tokens[b] = std::string(1, static_cast<char>(b));
  v.tokens[' '] = "\xc4\xa0";
  v.merges = {"l o", "lo w", "e r", "\xc4\xa0 lo"};
  for (const char* merged : {"lo", "low", "er", "\xc4\xa0lo"}) v.tokens.push_back(merged);
  return v;
}

TEST(BpeTokenizerTest, MergesByRankThenLeftmost) {
  ASSERT_OK_AND_ASSIGN(BpeTokenizer tokenizer, BpeTokenizer::FromVocabulary(TinyVocabulary()));
  // "lower": l+o (rank 0) -> lo, lo+w (rank 1) -> low, e+r (rank 2) -> er.
  EXPECT_THAT(tokenizer.Encode("lower"), ElementsAre(257, 258));
  // " low": the space word-prefix merges with "lo" (rank 3) only after l+o.
  EXPECT_THAT(tokenizer.Encode(" lo"), ElementsAre(259));
  EXPECT_EQ(tokenizer.Decode(tokenizer.Encode("lower lo")), "lower lo");
}

TEST(BpeTokenizerTest, IgnoreMergesTakesAWordThatIsAToken) {
  // "xyz" is a token no merge builds: Llama 3's names take it whole, Qwen2's do not.
  BpeVocabulary v = TinyVocabulary();
  v.tokens.push_back("xyz");
  v.pre_tokenizer = "llama-bpe";
  ASSERT_OK_AND_ASSIGN(BpeTokenizer llama3, BpeTokenizer::FromVocabulary(v));
  EXPECT_THAT(llama3.Encode("xyz"), ElementsAre(260));
  EXPECT_THAT(llama3.Encode("lower"), ElementsAre(257, 258));
  v.pre_tokenizer = "qwen2";
  ASSERT_OK_AND_ASSIGN(BpeTokenizer qwen2, BpeTokenizer::FromVocabulary(v));
  EXPECT_THAT(qwen2.Encode("xyz"), ElementsAre('x', 'y', 'z'));
}

TEST(BpeTokenizerTest, UserDefinedTokensAreSplitOutFirst) {
  // "zz" (type 4, stored as raw text) is taken wherever it occurs, as llama.cpp takes it;
  // the text around it is pre-tokenized on its own.
  BpeVocabulary v = TinyVocabulary();
  v.tokens.push_back("zz");
  v.token_types.assign(v.tokens.size(), 1);
  v.token_types.back() = 4;
  ASSERT_OK_AND_ASSIGN(BpeTokenizer tokenizer, BpeTokenizer::FromVocabulary(v));
  EXPECT_THAT(tokenizer.Encode("azzb"), ElementsAre('a', 260, 'b'));
  EXPECT_THAT(tokenizer.Encode("zz lo"), ElementsAre(260, 259));
}

TEST(BpeTokenizerTest, UnmergeableBytesFallBackToByteTokens) {
  ASSERT_OK_AND_ASSIGN(BpeTokenizer tokenizer, BpeTokenizer::FromVocabulary(TinyVocabulary()));
  EXPECT_THAT(tokenizer.Encode("xyz"), ElementsAre('x', 'y', 'z'));
}

TEST(BpeTokenizerTest, RejectsMalformedMerges) {
  BpeVocabulary v = TinyVocabulary();
  v.merges.push_back("nospace");
  EXPECT_THAT(BpeTokenizer::FromVocabulary(v),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("merges[4]")));
}

TEST(BpeTokenizerTest, RejectsOutOfRangeSpecialIds) {
  BpeVocabulary v = TinyVocabulary();
  v.bos_id = 100000;
  EXPECT_THAT(BpeTokenizer::FromVocabulary(v),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bos_token_id")));
}

// Ids below were produced by llama.cpp's llama-tokenize (--no-parse-special) for the
// same GGUF file.
class DefaultModelTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<gguf::GgufFile> file,
                         gguf::GgufFile::Open(testing::kDefaultModelPath));
    file_ = file.release();
    ASSERT_OK_AND_ASSIGN(BpeTokenizer tokenizer, BpeTokenizer::FromGguf(*file_));
    tokenizer_ = new BpeTokenizer(std::move(tokenizer));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete file_;
  }
  static gguf::GgufFile* file_;
  static BpeTokenizer* tokenizer_;
};

gguf::GgufFile* DefaultModelTokenizerTest::file_ = nullptr;
BpeTokenizer* DefaultModelTokenizerTest::tokenizer_ = nullptr;

TEST_F(DefaultModelTokenizerTest, ReadsSpecialTokensFromMetadata) {
  EXPECT_EQ(tokenizer_->vocab_size(), 49152);
  EXPECT_EQ(tokenizer_->bos_id(), 1);
  EXPECT_EQ(tokenizer_->eos_id(), 2);
  EXPECT_FALSE(tokenizer_->add_bos());
}

TEST_F(DefaultModelTokenizerTest, EmptyText) {
  EXPECT_THAT(tokenizer_->Encode(""), IsEmpty());
  EXPECT_THAT(tokenizer_->Encode("", /*add_bos=*/true), ElementsAre(1));
}

TEST_F(DefaultModelTokenizerTest, PlainWords) {
  EXPECT_THAT(tokenizer_->Encode("Hello world"), ElementsAre(19556, 905));
  EXPECT_THAT(tokenizer_->Encode("end with space "), ElementsAre(486, 351, 1898, 216));
}

TEST_F(DefaultModelTokenizerTest, WhitespaceRuns) {
  EXPECT_THAT(tokenizer_->Encode("  multiple   spaces\n\n\tand tabs  \n"),
              ElementsAre(216, 2701, 256, 5600, 1116, 197, 397, 29416, 32057));
  EXPECT_THAT(tokenizer_->Encode("\n\n\n"), ElementsAre(16506));
}

TEST_F(DefaultModelTokenizerTest, Digits) {
  EXPECT_THAT(tokenizer_->Encode("In 1995, 3.14159 and 1,000,000 people"),
              ElementsAre(788, 216, 33, 41, 41, 37, 28, 216, 35, 30, 33, 36, 33, 37, 41, 284,
                          216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 701));
}

TEST_F(DefaultModelTokenizerTest, PunctuationAndContractions) {
  EXPECT_THAT(tokenizer_->Encode("Don't, can't; it's 'quoted' \xe2\x80\x94 (parens) [brackets] "
                                 "{braces}!?..."),
              ElementsAre(8084, 982, 28, 416, 982, 43, 357, 506, 637, 385, 5036, 23, 1841, 365,
                          7126, 5400, 25, 933, 6838, 936, 1175, 77, 1662, 6838, 561, 109, 17,
                          47, 2026));
  EXPECT_THAT(tokenizer_->Encode("THE'S 'll 'LL a'b"),
              ElementsAre(15964, 23, 67, 637, 764, 637, 16421, 253, 23, 82));
}

TEST_F(DefaultModelTokenizerTest, NonAscii) {
  const std::vector<int32_t> expected = {
      51,    1939,  2756,  15486, 46494, 412,   2756,  5422,  2756,  816,   17097, 247,
      126,   16736, 122,   17097, 241,   115,   40993, 179,   120,   248,   5664,  239,
      17162, 17162, 25723, 11517, 12001, 21118, 26112, 216,   9175,  14714, 9382,  39511,
      7872,  24958, 4636,  220,   126,   33,    32,    32,    216,   16738};
  const std::string text =
      "Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac "
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
      "\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac "
      "\xd1\x80\xd1\x83\xd1\x81\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9 \xe2\x82\xb1" "100 \xc2\xbd";
  EXPECT_THAT(tokenizer_->Encode(text), ElementsAreArray(expected));
  EXPECT_EQ(tokenizer_->Decode(expected), text);
}

TEST_F(DefaultModelTokenizerTest, WikitextStyleLine) {
  const std::string text =
      " = Valkyria Chronicles III = \n \n Senj\xc5\x8d no Valkyria 3 : <unk> Chronicles ( "
      "Japanese : \xe6\x88\xa6\xe5\xa0\xb4\xe3\x81\xae\xe3\x83\xb4\xe3\x82\xa1\xe3\x83\xab"
      "\xe3\x82\xad\xe3\x83\xa5\xe3\x83\xaa\xe3\x82\xa2" "3 ) \n";
  EXPECT_THAT(tokenizer_->Encode(text),
              ElementsAre(446, 717, 1727, 105, 5484, 34471, 8140, 446, 3717, 3717, 6014, 90,
                          15037, 787, 717, 1727, 105, 5484, 216, 35, 1577, 2067, 5131, 46,
                          34471, 365, 4931, 1577, 17097, 226, 116, 176, 250, 129, 26453, 11100,
                          129, 10391, 111, 11100, 121, 10391, 251, 11100, 115, 11100, 120,
                          10391, 112, 35, 2481, 3717));
}

TEST_F(DefaultModelTokenizerTest, SpecialTokenTextIsNotParsed) {
  EXPECT_THAT(tokenizer_->Encode("<|im_start|>user\nhi<|im_end|>"),
              ElementsAre(44, 108, 306, 79, 3738, 108, 46, 4093, 198, 6004, 44, 108, 306, 79,
                          486, 108, 46));
}

TEST_F(DefaultModelTokenizerTest, MalformedUtf8) {
  EXPECT_THAT(tokenizer_->Encode("x\xff\xfe" "abc \xc3"),
              ElementsAre(104, 24211, 24211, 25276, 216, 24211));
}

// SmolLM2's vocabulary has no token for 21 byte values, among them \x04 and 0xF1 (the
// lead byte of U+40000..U+7FFFF); such bytes are skipped, as llama.cpp skips them.
TEST_F(DefaultModelTokenizerTest, BytesWithoutATokenAreSkipped) {
  EXPECT_FALSE(tokenizer_->HasByteToken(0x04));
  EXPECT_FALSE(tokenizer_->HasByteToken(0xf1));
  EXPECT_TRUE(tokenizer_->HasByteToken('a'));
  EXPECT_TRUE(tokenizer_->HasByteToken(0x9d));
  EXPECT_THAT(tokenizer_->Encode("ab\x04" "c \xf1\x9d\x98\xa0* "),
              ElementsAre(369, 83, 216, 247, 242, 250, 26, 216));
  EXPECT_EQ(tokenizer_->Decode(tokenizer_->Encode("ab\x04" "c")), "abc");
}

}  // namespace
}  // namespace kvlab::tokenizer

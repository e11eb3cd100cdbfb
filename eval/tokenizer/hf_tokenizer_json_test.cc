#include "eval/tokenizer/hf_tokenizer_json.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::tokenizer {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581

// An added_tokens entry with every field `tokenizers` requires; `options` overrides them.
Json AddedToken(int id, const std::string& content, bool special,
                const Json& options = Json::object()) {
  Json token = {{"id", id},           {"content", content}, {"special", special},
                {"normalized", false}, {"lstrip", false},    {"rstrip", false},
                {"single_word", false}};
  token.update(options);
  return token;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const Json& json, const std::string& config = "") {
  return TokenizerFromJsonText(json.dump(), config, "t/tokenizer.json",
                               "t/tokenizer_config.json");
}

// A byte-level vocabulary (GPT-2's alphabet: "Ġ" is the space) with merges that build
// "hello" and "Ġwor".
Json ByteLevelJson() {
  Json vocab = {{"<|endoftext|>", 0}, {"h", 1},  {"e", 2},     {"l", 3},      {"o", 4},
                {"\xC4\xA0", 5},      {"w", 6},  {"r", 7},     {"d", 8},      {"he", 9},
                {"ll", 10},           {"hell", 11}, {"hello", 12}, {"\xC4\xA0w", 13},
                {"or", 14},           {"\xC4\xA0wor", 15}, {"1", 16}, {"2", 17}, {"12", 18}};
  Json merges = {"h e", "l l", "he ll", "hell o", "\xC4\xA0 w", "o r", "\xC4\xA0w or", "1 2"};
  return Json{
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"added_tokens",
       {AddedToken(0, "<|endoftext|>", true)}},
  };
}

TEST(HfTokenizerJsonTest, ByteLevelMergesByRank) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(ByteLevelJson());
  ASSERT_THAT(t, IsOk());
  // "hello" | " world": h+e, l+l, he+ll, hell+o; Ġ+w, o+r, Ġw+or, then l and d alone.
  EXPECT_THAT((*t)->Encode("hello world", false), ElementsAre(12, 15, 3, 8));
  EXPECT_EQ((*t)->Decode({12, 15, 3, 8}), "hello world");
  EXPECT_EQ((*t)->vocab_size(), 19);
  EXPECT_FALSE((*t)->add_bos());
  // A character with no token, no byte fallback and no unknown token is dropped, as
  // `tokenizers` drops it.
  EXPECT_THAT((*t)->Encode("hez", false), ElementsAre(9));
  // Added tokens are split out before anything else.
  EXPECT_THAT((*t)->Encode("hello<|endoftext|>hello", false), ElementsAre(12, 0, 12));
}

// A merges.txt header copied into the list is passed over, as `tokenizers` does, and
// takes no rank.
TEST(HfTokenizerJsonTest, MergesPassOverAVersionHeader) {
  Json json = ByteLevelJson();
  Json merges = Json::array({"#version: 0.2"});
  for (const Json& merge : json["model"]["merges"]) merges.push_back(merge);
  json["model"]["merges"] = merges;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("hello world", false), ElementsAre(12, 15, 3, 8));
}

TEST(HfTokenizerJsonTest, MergesAsPairsReadLikeStrings) {
  Json json = ByteLevelJson();
  Json pairs = Json::array();
  for (const Json& merge : json["model"]["merges"]) {
    const std::string text = merge.get<std::string>();
    pairs.push_back({text.substr(0, text.find(' ')), text.substr(text.find(' ') + 1)});
  }
  json["model"]["merges"] = pairs;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("hello world", false), ElementsAre(12, 15, 3, 8));
}

TEST(HfTokenizerJsonTest, DigitsSplitBeforeByteLevel) {
  Json json = ByteLevelJson();
  absl::StatusOr<std::unique_ptr<Tokenizer>> whole = Load(json);
  ASSERT_THAT(whole, IsOk());
  EXPECT_THAT((*whole)->Encode("12", false), ElementsAre(18));  // "1 2" merges.
  json["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Digits"}, {"individual_digits", true}},
                             json["pre_tokenizer"]}}};
  absl::StatusOr<std::unique_ptr<Tokenizer>> digits = Load(json);
  ASSERT_THAT(digits, IsOk());
  EXPECT_THAT((*digits)->Encode("12", false), ElementsAre(16, 17));  // Never merged.
}

TEST(HfTokenizerJsonTest, IgnoreMergesTakesWholeWords) {
  Json json = ByteLevelJson();
  // Without the merge chain "hell" + "o", only ignore_merges finds "hello".
  json["model"]["merges"] = {"h e", "l l", "he ll"};
  absl::StatusOr<std::unique_ptr<Tokenizer>> merged = Load(json);
  ASSERT_THAT(merged, IsOk());
  EXPECT_THAT((*merged)->Encode("hello", false), ElementsAre(11, 4));
  json["model"]["ignore_merges"] = true;
  absl::StatusOr<std::unique_ptr<Tokenizer>> whole = Load(json);
  ASSERT_THAT(whole, IsOk());
  EXPECT_THAT((*whole)->Encode("hello", false), ElementsAre(12));
}

// Llama 3's Split regex: letters take one leading non-letter, digits go in threes,
// newlines stay with the punctuation before them.
TEST(HfTokenizerJsonTest, Llama3SplitRegex) {
  Json json = ByteLevelJson();
  json["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern",
          {{"Regex",
            R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  // Every single byte is a token, so the ids show the words' boundaries through merges:
  // "1212" is "121" + "2", so "1 2" merges once in "121" and "2" stays alone.
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("1212", false), ElementsAre(18, 16, 17));
  // " world" is one word under this regex too.
  EXPECT_THAT((*t)->Encode("hello world", false), ElementsAre(12, 15, 3, 8));
  // Bytes beyond U+10FFFF and a surrogate's: each byte one U+FFFD, which has no token
  // here, so only "he" and "l" and "o" are left (ICU reads the text as kvlab does).
  EXPECT_THAT((*t)->Encode("he\xF6\xB6\xB6\xB6l\xED\xA0\x80o", false), ElementsAre(9, 3, 4));
}

// A SentencePiece-style vocabulary: <unk>, <s>, </s>, the 256 byte tokens (3 .. 258),
// then "▁" 259, "h" 260, "i" 261, "hi" 262, "▁hi" 263, "a" 264, "b" 265, "c" 266,
// "ab" 267, "bc" 268.
Json SpmJson() {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  const std::string mark = kSpaceMark;
  int id = 259;
  for (const std::string& piece : {mark, std::string("h"), std::string("i"), std::string("hi"),
                                   mark + "hi", std::string("a"), std::string("b"),
                                   std::string("c"), std::string("ab"), std::string("bc")}) {
    vocab[piece] = id++;
  }
  return Json{
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", {"h i", mark + " hi", "a b", "b c"}},
        {"byte_fallback", true},
        {"fuse_unk", true},
        {"unk_token", "<unk>"}}},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", mark}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", mark}}}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"added_tokens",
       {AddedToken(0, "<unk>", true), AddedToken(1, "<s>", true), AddedToken(2, "</s>", true)}},
  };
}

TEST(HfTokenizerJsonTest, SentencePieceStyleWithByteFallback) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(SpmJson());
  ASSERT_THAT(t, IsOk());
  EXPECT_TRUE((*t)->add_bos());
  EXPECT_EQ((*t)->bos_id(), 1);
  // "▁hi▁hi": h+i twice (leftmost first), then ▁+hi twice.
  EXPECT_THAT((*t)->Encode("hi hi", true), ElementsAre(1, 263, 263));
  // "é" has no token: its bytes C3 A9 as <0xC3> <0xA9>.
  EXPECT_THAT((*t)->Encode("h\xC3\xA9", false), ElementsAre(259, 260, 3 + 0xC3, 3 + 0xA9));
  EXPECT_EQ((*t)->Decode({263, 263, 259, 260, 3 + 0xC3, 3 + 0xA9}), "hi hi h\xC3\xA9");
  // The prepended space is dropped only at the very start, as the Strip decoder does.
  EXPECT_EQ((*t)->Decode({1, 263}), "<s> hi");
  // Every stretch between added tokens gets the prepended ▁, as Prepend does.
  EXPECT_THAT((*t)->Encode("hi</s>hi", false), ElementsAre(263, 2, 263));
}

TEST(HfTokenizerJsonTest, MergesApplyInListedOrderNotByScore) {
  Json json = SpmJson();
  json["normalizer"] = nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> ab_first = Load(json);
  ASSERT_THAT(ab_first, IsOk());
  EXPECT_THAT((*ab_first)->Encode("abc", false), ElementsAre(267, 266));
  json["model"]["merges"] = {"h i", std::string(kSpaceMark) + " hi", "b c", "a b"};
  absl::StatusOr<std::unique_ptr<Tokenizer>> bc_first = Load(json);
  ASSERT_THAT(bc_first, IsOk());
  EXPECT_THAT((*bc_first)->Encode("abc", false), ElementsAre(264, 268));
}

TEST(HfTokenizerJsonTest, UnknownCharactersFuseIntoOneUnknownToken) {
  Json json = SpmJson();
  json["model"]["byte_fallback"] = false;
  json["normalizer"] = nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> fused = Load(json);
  ASSERT_THAT(fused, IsOk());
  EXPECT_THAT((*fused)->Encode("hzzi", false), ElementsAre(260, 0, 261));
  json["model"]["fuse_unk"] = false;
  absl::StatusOr<std::unique_ptr<Tokenizer>> apart = Load(json);
  ASSERT_THAT(apart, IsOk());
  EXPECT_THAT((*apart)->Encode("hzzi", false), ElementsAre(260, 0, 0, 261));
}

TEST(HfTokenizerJsonTest, MetaspacePrependsFirstOnlyAtTheStart) {
  Json json = SpmJson();
  json["normalizer"] = nullptr;
  json["pre_tokenizer"] = {{"type", "Metaspace"},
                           {"replacement", kSpaceMark},
                           {"prepend_scheme", "first"},
                           {"split", false}};
  absl::StatusOr<std::unique_ptr<Tokenizer>> first = Load(json);
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT((*first)->Encode("hi hi", false), ElementsAre(263, 263));
  EXPECT_THAT((*first)->Encode("hi</s>hi", false), ElementsAre(263, 2, 262));
  EXPECT_EQ((*first)->Decode({263, 2, 262}), "hi</s>hi");
  json["pre_tokenizer"]["prepend_scheme"] = "always";
  absl::StatusOr<std::unique_ptr<Tokenizer>> always = Load(json);
  ASSERT_THAT(always, IsOk());
  EXPECT_THAT((*always)->Encode("hi</s>hi", false), ElementsAre(263, 2, 263));
}

TEST(HfTokenizerJsonTest, AddedTokensMatchLeftmostLongestAndStrip) {
  Json json = SpmJson();
  json["normalizer"] = nullptr;
  json["added_tokens"].push_back(
      AddedToken(267, "ab", false, {{"lstrip", true}}));
  json["added_tokens"].push_back(AddedToken(268, "bc", false));
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  // "ab" starts first, so "bc" cannot match; lstrip takes the spaces before "ab".
  EXPECT_THAT((*t)->Encode("hi  abc", false), ElementsAre(262, 267, 266));
}

TEST(HfTokenizerJsonTest, TokenizerConfigDecidesBos) {
  // Given with add_bos_token, a bos_token replaces the template's.
  absl::StatusOr<std::unique_ptr<Tokenizer>> replaced =
      Load(SpmJson(), R"({"add_bos_token": true, "bos_token": "</s>"})");
  ASSERT_THAT(replaced, IsOk());
  EXPECT_THAT((*replaced)->Encode("hi", true), ElementsAre(2, 263));
  const std::string no_bos = R"({"add_bos_token": false, "eos_token": {"content": "</s>"}})";
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(SpmJson(), no_bos);
  ASSERT_THAT(t, IsOk());
  EXPECT_FALSE((*t)->add_bos());
  EXPECT_EQ((*t)->eos_id(), 2);
  Json json = ByteLevelJson();
  absl::StatusOr<std::unique_ptr<Tokenizer>> bos =
      Load(json, R"({"add_bos_token": true, "bos_token": "<|endoftext|>"})");
  ASSERT_THAT(bos, IsOk());
  EXPECT_TRUE((*bos)->add_bos());
  EXPECT_EQ((*bos)->bos_id(), 0);
}

// Each malformed file is one error naming the file and the field.
void ExpectError(const Json& json, absl::StatusCode code, const std::string& field,
                 const std::string& config = "") {
  EXPECT_THAT(Load(json, config),
              StatusIs(code, AllOf(HasSubstr("tokenizer"), HasSubstr(field))))
      << field;
}

TEST(HfTokenizerJsonTest, MalformedFilesNameTheFileAndField) {
  EXPECT_THAT(TokenizerFromJsonText("{\"model\": ", "", "t/tokenizer.json", ""),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("t/tokenizer.json: not valid JSON")));
  EXPECT_THAT(Load(Json{{"normalizer", nullptr}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t/tokenizer.json: tokenizer.model is missing")));
  const auto code = absl::StatusCode::kInvalidArgument;
  const auto unsupported = absl::StatusCode::kUnimplemented;
  Json json = ByteLevelJson();
  json["model"].erase("merges");
  ExpectError(json, code, "model.merges is missing");
  json["model"]["merges"] = {"h e", "h q"};
  ExpectError(json, code, "model.merges[1] ('h' 'q') needs 'q'");
  json["model"]["merges"] = {"h e f"};
  ExpectError(json, code, "model.merges[0] is 'h e f'");
  json = ByteLevelJson();
  json["model"]["type"] = "Unigram";
  ExpectError(json, unsupported, "model.type is 'Unigram'");
  json = ByteLevelJson();
  json["model"]["vocab"]["x"] = "seven";
  ExpectError(json, code, "model.vocab['x'] must be");
  json = ByteLevelJson();
  json["model"]["vocab"]["x"] = 1000;
  ExpectError(json, code, "model.vocab['x'] is 1000");
  json = ByteLevelJson();
  json["model"]["dropout"] = 0.1;
  ExpectError(json, unsupported, "model.dropout is 0.1");
  json = ByteLevelJson();
  json["pre_tokenizer"] = {{"type", "Whitespace"}};
  ExpectError(json, unsupported, "pre_tokenizer.type is 'Whitespace'");
  json["pre_tokenizer"] = {{"type", "Split"},
                           {"pattern", {{"Regex", "\\w+"}}},
                           {"behavior", "Isolated"},
                           {"invert", false}};
  // Quoted as the file's JSON writes it.
  ExpectError(json, unsupported, "Split regex '\\\\w+' is not one kvlab runs");
  json = ByteLevelJson();
  json["normalizer"] = {{"type", "Lowercase"}};
  ExpectError(json, unsupported, "normalizer.type is 'Lowercase'");
  json = ByteLevelJson();
  json["added_tokens"][0].erase("id");
  ExpectError(json, code, "added_tokens[0].id is missing");
  json = ByteLevelJson();
  for (int i = 0; i < 20; ++i) {
    json["normalizer"] = {{"type", "Sequence"}, {"normalizers", {json["normalizer"]}}};
  }
  ExpectError(json, code, "nests Sequences more than 16 deep");
  json = SpmJson();
  json["post_processor"]["special_tokens"]["<s>"]["ids"] = {5000};
  ExpectError(json, code, "post_processor: the BOS id 5000 is not a token (the file has 269)");
  ExpectError(SpmJson(), code, "bos_token is '<x>'", R"({"bos_token": "<x>"})");
  ExpectError(SpmJson(), unsupported, "tokenizer_config.json: add_eos_token is true",
              R"({"add_eos_token": true})");
  ExpectError(SpmJson(), code,
              "tokenizer_config.json: bos_token is id 2, but tokenizer.json's template puts id 1 "
              "first",
              R"({"bos_token": "</s>"})");
  ExpectError(SpmJson(), absl::StatusCode::kDataLoss, "tokenizer_config.json: not valid JSON",
              "{");
}

// Fields `tokenizers` refuses, and kvlab with it, rather than guess what they meant.
TEST(HfTokenizerJsonTest, FieldsTheLibraryRefusesAreErrors) {
  const auto code = absl::StatusCode::kInvalidArgument;
  Json json = ByteLevelJson();
  json["version"] = "2.0";
  ExpectError(json, absl::StatusCode::kUnimplemented, "version is '2.0'");
  json = ByteLevelJson();
  json["pre_tokenizer"].erase("add_prefix_space");
  ExpectError(json, code, "pre_tokenizer.add_prefix_space is missing");
  json = ByteLevelJson();
  json["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolated"}};
  ExpectError(json, code, "pre_tokenizer.invert is missing");
  json["pre_tokenizer"]["invert"] = false;
  json["pre_tokenizer"]["behavior"] = "Merged";
  ExpectError(json, code, "pre_tokenizer.behavior is 'Merged'; expected Removed");
  json["pre_tokenizer"]["behavior"] = "Isolated";
  json["pre_tokenizer"]["pattern"] = {{"String", " "}, {"Regex", " "}};
  ExpectError(json, code, "pre_tokenizer.pattern must be");
  json = SpmJson();
  json["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "__"}};
  ExpectError(json, code, "pre_tokenizer.replacement is '__'; expected one character");
  json["pre_tokenizer"] = {{"type", "Metaspace"},
                           {"replacement", kSpaceMark},
                           {"add_prefix_space", false},
                           {"prepend_scheme", "first"}};
  ExpectError(json, code, "pre_tokenizer.add_prefix_space is false, which contradicts");
  json = SpmJson();
  json["post_processor"]["special_tokens"] = Json::array();
  ExpectError(json, code, "post_processor.special_tokens must be an object");
  for (const char* key : {"special", "normalized", "lstrip", "rstrip", "single_word"}) {
    json = ByteLevelJson();
    json["added_tokens"][0].erase(key);
    ExpectError(json, code, absl::StrCat("added_tokens[0].", key, " is missing"));
  }
}

// "wor" inside " world" touches a word character, so BPE sees it as before; alone it is
// the added token.
TEST(HfTokenizerJsonTest, SingleWordAddedTokens) {
  Json json = ByteLevelJson();
  json["added_tokens"].push_back(AddedToken(19, "wor", false, {{"single_word", true}}));
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("hello world", false), ElementsAre(12, 15, 3, 8));
  EXPECT_THAT((*t)->Encode("wor", false), ElementsAre(19));
}

// A vocabulary's "\n" (or any control character) quoted in an error stays on one line.
TEST(HfTokenizerJsonTest, ErrorsQuoteTokensOnOneLine) {
  Json json = ByteLevelJson();
  json["model"]["vocab"]["a\nb"] = "one";
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  EXPECT_THAT(
      t, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.vocab['a\\nb'] must be")));
  EXPECT_EQ(t.status().message().find('\n'), absl::string_view::npos);
  json = ByteLevelJson();
  json["model"]["merges"] = {"h \t"};
  t = Load(json);
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs '\\t'")));
}

// Gemma's files split at the literal " " after a normalizer has replaced every space,
// which leaves the split nothing to do; the file reads, and encodes as without it.
TEST(HfTokenizerJsonTest, SplitAtALiteralString) {
  Json json = SpmJson();
  json["normalizer"] = {
      {"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}};
  absl::StatusOr<std::unique_ptr<Tokenizer>> plain = Load(json);
  json["pre_tokenizer"] = {{"type", "Split"},
                           {"pattern", {{"String", " "}}},
                           {"behavior", "MergedWithPrevious"},
                           {"invert", false}};
  absl::StatusOr<std::unique_ptr<Tokenizer>> gemma = Load(json);
  ASSERT_THAT(plain, IsOk());
  ASSERT_THAT(gemma, IsOk());
  EXPECT_THAT((*gemma)->Encode("hi hi", false), ElementsAre(262, 263));
  EXPECT_EQ((*gemma)->Encode("hi hi", false), (*plain)->Encode("hi hi", false));
  // Without the normalizer the split has work: "hi " and "hi", so no word holds "▁hi".
  json["normalizer"] = nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> split = Load(json);
  ASSERT_THAT(split, IsOk());
  EXPECT_THAT((*split)->Encode("hi hi", false), ElementsAre(262, 3 + ' ', 262));
}

// `tokenizers` takes an added token's id from the vocabulary (or numbers it on from
// the vocabulary's size), not from the file; a file that says otherwise is an error.
TEST(HfTokenizerJsonTest, AddedTokenIdsAreThoseTheLibraryGives) {
  const auto code = absl::StatusCode::kInvalidArgument;
  Json json = ByteLevelJson();
  json["added_tokens"][0]["id"] = 5;
  ExpectError(json, code,
              "added_tokens[0].id is 5, but tokenizers gives '<|endoftext|>' the id 0 (its "
              "model.vocab id)");
  json = ByteLevelJson();
  json["added_tokens"].push_back(AddedToken(20, "<x>", false));
  ExpectError(json, code,
              "added_tokens[1].id is 20, but tokenizers gives '<x>' the id 19 (numbering on "
              "after model.vocab's 19 tokens)");
  json["added_tokens"][1]["id"] = 19;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("he<x>", false), ElementsAre(9, 19));
  // Listed twice: one token, with the later entry's options (here rstrip).
  json["added_tokens"].push_back(AddedToken(19, "<x>", false, {{"rstrip", true}}));
  t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("<x> he", false), ElementsAre(19, 9));
  EXPECT_EQ((*t)->vocab_size(), 20);
}

// A BPE model without merges encodes character by character, as `tokenizers` does.
TEST(HfTokenizerJsonTest, ModelWithoutMergesEncodesCharacters) {
  Json json = ByteLevelJson();
  json["model"]["merges"] = Json::array();
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = Load(json);
  ASSERT_THAT(t, IsOk());
  EXPECT_THAT((*t)->Encode("hello", false), ElementsAre(1, 2, 3, 3, 4));
}

TEST(HfTokenizerJsonTest, MissingFileIsNotFound) {
  EXPECT_THAT(TokenizerFromJson(::testing::TempDir() + "/none/tokenizer.json"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none/tokenizer.json")));
}

TEST(HfTokenizerJsonTest, ReadsTokenizerConfigBesideTheFile) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/tokenizer.json") << SpmJson().dump();
  std::ofstream(dir + "/tokenizer_config.json") << R"({"add_bos_token": false})";
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = TokenizerFromJson(dir + "/tokenizer.json");
  ASSERT_THAT(t, IsOk());
  EXPECT_FALSE((*t)->add_bos());
}

}  // namespace
}  // namespace kvlab::tokenizer

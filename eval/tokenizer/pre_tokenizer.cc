#include "eval/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

using Engine = SplitPattern::Engine;

// llama.cpp's split patterns, as its BPE tokenizer writes them (src/llama-vocab.cpp,
// llm_tokenizer_bpe); a regex with an engine other than kStdRegex is one llama.cpp
// matches with code of its own rather than a regex library, except SuperBPE's lookahead,
// which kvlab finds by hand in linear time (regex_split.h). The contractions are
// spelled with explicit case ('[sS]), as llama.cpp spells them, not (?i:...).
constexpr SplitPattern kDefaultPunctuation{Engine::kStdRegex, R"re([\p{P}\$\+<=>\^~\|]+)re"};
constexpr SplitPattern kGpt2{
    Engine::kGpt2, R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"};
constexpr SplitPattern kNumberRuns{Engine::kStdRegex, R"re(\p{N}+)re"};
constexpr SplitPattern kAsciiDigitTriples{Engine::kStdRegex, R"re([0-9][0-9][0-9])re"};
constexpr SplitPattern kNumbersInThrees{Engine::kStdRegex, R"re(\p{N}{1,3})re"};
constexpr SplitPattern kMinicpm5Words{
    Engine::kStdRegex,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kLlama3{
    Engine::kLlama3,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kEachNewline{Engine::kStdRegex, R"re([\r\n])re"};
constexpr SplitPattern kDeepseekLetters{
    Engine::kStdRegex,
    R"re(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)re"};
constexpr SplitPattern kDeepseekPunctuation{Engine::kStdRegex,
                                            R"re(\s?[!-/:-~！-／：-～‘-‟　-。]+)re"};
constexpr SplitPattern kTrailingSpaces{Engine::kStdRegex, R"re(\s+$)re"};
constexpr SplitPattern kDeepseekCjk{Engine::kStdRegex, R"re([一-龥ࠀ-一가-퟿]+)re"};
constexpr SplitPattern kSpaceLetters{Engine::kStdRegex, R"re(\s?\p{L}+)re"};
constexpr SplitPattern kSpacePunctuation{Engine::kStdRegex, R"re(\s?\p{P}+)re"};
constexpr SplitPattern kEachNumber{Engine::kStdRegex, R"re(\p{N})re"};
constexpr SplitPattern kCjkAndKana{Engine::kStdRegex, R"re([一-龥぀-ゟ゠-ヿ]+)re"};
constexpr SplitPattern kDeepseekV3Words{
    Engine::kStdRegex,
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kSpark25Words{
    Engine::kStdRegex,
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kYoutuCjk{
    Engine::kStdRegex,
    R"re([가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+)re"};
constexpr SplitPattern kYoutuWords{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kFalconPunctuation{Engine::kStdRegex, R"re([\p{P}\$\+<=>\^~\|`]+)re"};
constexpr SplitPattern kJais2{
    Engine::kStdRegex,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})re"};
constexpr SplitPattern kQwen2{
    Engine::kQwen2,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kQwen35{
    Engine::kQwen35,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kPoro{Engine::kStdRegex, R"re( ?[^(\s|.,!?…。，、।۔،)]+)re"};
constexpr SplitPattern kTekken{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kExaoneMoe{
    Engine::kStdRegex,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kChameleonSentinels{Engine::kStdRegex, R"re(<sentinel:[0-9]+>)re"};
constexpr SplitPattern kChameleonImages{Engine::kStdRegex,
                                        R"re((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)re"};
constexpr SplitPattern kChameleonWhitespace{Engine::kStdRegex, R"re(([\t\n]|    |  ))re"};
constexpr SplitPattern kChameleonPunctuation{Engine::kStdRegex, R"re([\p{P}!-/:-@\[-`{-~])re"};
constexpr SplitPattern kGpt4o{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kGraniteEmbMulti{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kTinyAyaDigits{Engine::kDigitGroups, R"re(\d{1,3}(?=(?:\d{3})*\b))re"};
constexpr SplitPattern kTinyAyaWords{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kSuperbpeThousands{Engine::kThousandsCuts, R"re((?=(\d{3})+(?!\d)))re"};
constexpr SplitPattern kBailingmoe{
    Engine::kStdRegex,
    R"re('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kSeedCoder{
    Engine::kStdRegex,
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kKimiK2{Engine::kKimiK2, R"re(\p{Han}+)re"};
constexpr SplitPattern kUfakzeka{
    Engine::kStdRegex,
    R"re([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kDigitGroups{Engine::kDigitGroups, R"re(\p{AFMoE_digits})re"};
constexpr SplitPattern kAfmoeCjk{
    Engine::kStdRegex,
    R"re([一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+)re"};
constexpr SplitPattern kAfmoeWords{
    Engine::kStdRegex,
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
constexpr SplitPattern kNewlines{Engine::kNewlines, R"re([^\n]+|[\n]+)re"};

// One row per set of names llama.cpp treats alike.
struct NamedPreTokenizer {
  std::vector<absl::string_view> names;
  std::vector<SplitPattern> patterns;
  bool ignore_merges;
};

const std::vector<NamedPreTokenizer>& Table() {
  static const auto* const table = new std::vector<NamedPreTokenizer>{
      {{"default"}, {kDefaultPunctuation, kGpt2, kNumberRuns, kAsciiDigitTriples}, false},
      {{"minicpm5"}, {kNumbersInThrees, kMinicpm5Words}, true},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano"},
       {kLlama3},
       true},
      {{"deepseek-llm"},
       {kEachNewline, kDeepseekLetters, kDeepseekPunctuation, kTrailingSpaces, kDeepseekCjk,
        kNumberRuns},
       false},
      {{"deepseek-coder"},
       {kEachNewline, kSpaceLetters, kSpacePunctuation, kDeepseekCjk, kEachNumber},
       false},
      {{"deepseek-v3"}, {kNumbersInThrees, kCjkAndKana, kDeepseekV3Words}, false},
      {{"spark2_5"}, {kNumbersInThrees, kCjkAndKana, kSpark25Words, kEachNumber}, false},
      {{"youtu"}, {kYoutuCjk, kYoutuWords}, true},
      {{"falcon"}, {kFalconPunctuation, kGpt2, kAsciiDigitTriples}, false},
      {{"mpt"}, {kGpt2}, false},
      {{"starcoder"}, {kEachNumber, kGpt2}, false},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
        "mellum", "modern-bert"},
       {kGpt2},
       false},
      {{"jais-2"}, {kJais2}, false},
      {{"jina-v1-en", "jina-v2-code", "roberta-bpe"}, {kGpt2}, false},
      {{"refact"}, {kEachNumber, kGpt2}, false},
      {{"command-r"}, {kEachNumber, kGpt2}, false},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2"}, {kQwen2}, false},
      {{"qwen35"}, {kQwen35}, false},
      {{"stablelm2"}, {kQwen2}, false},
      {{"olmo"}, {kGpt2}, false},
      {{"dbrx"}, {kLlama3}, false},
      {{"smaug-bpe"}, {kLlama3}, false},
      {{"poro-chat"}, {kPoro}, false},
      {{"chatglm-bpe"}, {kLlama3}, false},
      {{"glm4", "glm5"}, {kLlama3}, true},
      {{"viking"}, {kPoro, kEachNumber}, false},
      {{"jais"}, {kGpt2}, false},
      {{"tekken"}, {kTekken}, true},
      {{"smollm"}, {kEachNumber, kGpt2}, false},
      {{"codeshell"}, {kEachNumber, kGpt2}, false},
      {{"bloom"}, {kPoro}, false},
      {{"gpt3-finnish"}, {kPoro}, false},
      {{"exaone"}, {kEachNumber, kGpt2}, false},
      {{"exaone4"}, {kGpt2}, false},
      {{"exaone-moe"}, {kExaoneMoe}, false},
      {{"chameleon"},
       {kChameleonSentinels, kChameleonImages, kChameleonWhitespace, kEachNumber,
        kChameleonPunctuation, kGpt2},
       false},
      {{"minerva-7b"}, {kEachNumber, kGpt2}, false},
      {{"megrez"}, {kQwen2}, false},
      {{"gpt-4o", "llama4", "kanana2", "talkie"}, {kGpt4o}, false},
      {{"granite-embed-multi-97m"}, {kGraniteEmbMulti}, true},
      {{"tiny_aya", "cohere2moe"}, {kTinyAyaDigits, kTinyAyaWords}, false},
      {{"superbpe"}, {kNumberRuns, kSuperbpeThousands}, false},
      {{"trillion"}, {kGpt2}, false},
      {{"granite-docling"}, {kGpt2}, false},
      {{"bailingmoe", "bailingmoe2", "llada-moe"}, {kBailingmoe}, false},
      {{"seed-coder"}, {kSeedCoder}, false},
      {{"hunyuan"}, {kQwen2}, false},
      {{"hunyuan-dense"}, {kNumbersInThrees, kCjkAndKana, kDeepseekV3Words}, false},
      {{"hy_v4"}, {kNumbersInThrees, kCjkAndKana, kDeepseekV3Words}, false},
      {{"joyai-llm"}, {kNumbersInThrees, kCjkAndKana, kDeepseekV3Words}, false},
      {{"kimi-k2"}, {kKimiK2}, false},
      {{"ufakzeka"}, {kUfakzeka}, false},
      {{"grok-2"}, {kQwen2}, false},
      {{"afmoe"}, {kDigitGroups, kAfmoeCjk, kAfmoeWords}, false},
      {{"laguna"}, {kNewlines, kQwen2}, false},
      {{"minimax-m2"}, {kGpt4o}, false},
      {{"solar-open"}, {kQwen2}, false},
      {{"mellum2"}, {kEachNumber, kGpt2}, false},
  };
  return *table;
}

// Names llama.cpp accepts but runs on raw UTF-8 (no byte alphabet; "gemma4",
// "granite-embed-multi-311m" and "sarvam-moe" also write spaces as U+2581 first).
constexpr absl::string_view kRawUtf8Names[] = {"gemma4", "granite-embed-multi-311m", "sarvam-moe",
                                               "whitespace"};

}  // namespace

std::vector<std::string> PreTokenizer::SupportedNames() {
  std::vector<std::string> names;
  for (const NamedPreTokenizer& row : Table()) {
    for (absl::string_view name : row.names) names.emplace_back(name);
  }
  return names;
}

absl::StatusOr<PreTokenizer> PreTokenizer::ForName(absl::string_view name) {
  for (const NamedPreTokenizer& row : Table()) {
    if (std::find(row.names.begin(), row.names.end(), name) == row.names.end()) continue;
    std::vector<CompiledSplitPattern> patterns;
    std::vector<absl::string_view> regexes;
    for (const SplitPattern& pattern : row.patterns) {
      absl::StatusOr<CompiledSplitPattern> compiled = CompiledSplitPattern::Compile(pattern);
      if (!compiled.ok()) return compiled.status();
      patterns.push_back(*std::move(compiled));
      regexes.push_back(pattern.regex);
    }
    return PreTokenizer(std::move(patterns), std::move(regexes), row.ignore_merges);
  }
  const bool raw_utf8 = std::find(std::begin(kRawUtf8Names), std::end(kRawUtf8Names), name) !=
                        std::end(kRawUtf8Names);
  return absl::UnimplementedError(absl::StrFormat(
      "pre-tokenizer '%s' is not supported%s (supported: %s)", name,
      raw_utf8 ? " (llama.cpp runs it on raw UTF-8, not GPT-2's byte alphabet)" : "",
      absl::StrJoin(SupportedNames(), ", ")));
}

std::vector<std::string> PreTokenizer::Split(absl::string_view text) const {
  const std::vector<char32_t> cps = DecodeUtf8(text);
  std::vector<CodePointRange> pieces;
  if (!cps.empty()) pieces.push_back(CodePointRange{0, cps.size()});
  for (const CompiledSplitPattern& pattern : patterns_) pieces = pattern.Refine(cps, pieces);
  std::vector<std::string> words;
  words.reserve(pieces.size());
  for (const CodePointRange& piece : pieces) {
    std::string word;
    for (size_t i = piece.begin; i < piece.end; ++i) AppendUtf8(cps[i], word);
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace kvlab::tokenizer

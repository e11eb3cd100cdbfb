#include "eval/ruler/niah.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace kvlab::ruler {

namespace {

// scripts/data/synthetic/constants.py, 'niah'.
constexpr char kTemplate[] =
    "Some special magic {type_needle_v} are hidden within the following text. Make sure to "
    "memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are "
    "all the special magic {type_needle_v} for {query} mentioned in the provided text?";
constexpr char kAnswerPrefix[] =
    " The special magic {type_needle_v} for {query} mentioned in the provided text are";
constexpr char kNeedle[] = "One of the special magic {type_needle_v} for {key} is: {value}.";

const char* TypeName(NeedleType type) {
  switch (type) {
    case NeedleType::kWords: return "words";
    case NeedleType::kNumbers: return "numbers";
    case NeedleType::kUuids: return "uuids";
  }
  return "";
}

// RULER's depths: np.round(np.linspace(0, 100, 40)), in percent.
int Depth(int index) { return static_cast<int>(std::lround(index * 100.0 / 39.0)); }

std::string RandomUuid(SampleRandom& random) {
  uint64_t high = random.Bits();
  uint64_t low = random.Bits();
  high = (high & ~0xF000ULL) | 0x4000ULL;                     // Version 4.
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);       // RFC 4122 variant.
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32, (high >> 16) & 0xFFFF,
                         high & 0xFFFF, low >> 48, low & 0xFFFFFFFFFFFFULL);
}

std::string Needle(NeedleType value_type, const std::string& key, const std::string& value) {
  return FillTemplate(kNeedle, {{"type_needle_v", TypeName(value_type)},
                                {"key", key},
                                {"value", value}});
}

// The essay's first `units` words, from its start again when it runs out.
std::vector<std::string> EssayPrefix(const std::vector<std::string>& essay, int64_t units) {
  std::vector<std::string> words;
  words.reserve(units);
  for (int64_t i = 0; i < units; ++i) words.push_back(essay[i % essay.size()]);
  return words;
}

std::string EssayContext(const RulerResources& resources, int64_t units,
                         const std::vector<std::string>& needles, SampleRandom& random) {
  const std::vector<std::string> sentences =
      SplitSentences(EssayPrefix(resources.essay_words, units));
  const int64_t n = static_cast<int64_t>(sentences.size());
  std::vector<int64_t> cuts;
  for (const int64_t depth_index : random.Sample(40, static_cast<int64_t>(needles.size()))) {
    cuts.push_back(n * Depth(static_cast<int>(depth_index)) / 100);
  }
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::string> pieces;
  int64_t from = 0;
  for (size_t i = 0; i <= needles.size(); ++i) {
    const int64_t to = i < needles.size() ? cuts[i] : n;
    if (to > from) {
      pieces.push_back(absl::StrJoin(sentences.begin() + from, sentences.begin() + to, " "));
    }
    if (i < needles.size()) pieces.push_back(needles[i]);
    from = to;
  }
  return absl::StrJoin(pieces, " ");
}

// `lines` with the needles inserted at distinct random lines, joined by newlines.
std::string LineContext(std::vector<std::string> lines, const std::vector<std::string>& needles,
                        SampleRandom& random) {
  std::vector<int64_t> at = random.Sample(static_cast<int64_t>(lines.size()),
                                          static_cast<int64_t>(needles.size()));
  std::sort(at.begin(), at.end(), std::greater<int64_t>());
  for (size_t i = 0; i < needles.size(); ++i) lines.insert(lines.begin() + at[i], needles[i]);
  return absl::StrJoin(lines, "\n");
}

}  // namespace

int64_t NiahMinimumUnits(const NiahParams& params) {
  return params.haystack == Haystack::kEssay ? 1 : params.keys * params.values;
}

std::string RandomNeedlePart(NeedleType type, const RulerResources& resources,
                             SampleRandom& random) {
  switch (type) {
    case NeedleType::kWords: {
      const auto& adjectives = resources.adjectives;
      const auto& nouns = resources.nouns;
      const std::string& adjective =
          adjectives[random.Uniform(0, static_cast<int64_t>(adjectives.size()) - 1)];
      return absl::StrCat(adjective, "-",
                          nouns[random.Uniform(0, static_cast<int64_t>(nouns.size()) - 1)]);
    }
    case NeedleType::kNumbers: return absl::StrCat(random.Uniform(1000000, 9999999));
    case NeedleType::kUuids: return RandomUuid(random);
  }
  return "";
}

std::vector<std::string> SplitSentences(const std::vector<std::string>& words) {
  std::vector<std::string> sentences;
  std::string sentence;
  for (const std::string& word : words) {
    if (!sentence.empty()) sentence += ' ';
    sentence += word;
    const size_t end = word.find_last_not_of("\"')]}");
    if (end != std::string::npos &&
        (word[end] == '.' || word[end] == '!' || word[end] == '?')) {
      sentences.push_back(std::move(sentence));
      sentence.clear();
    }
  }
  if (!sentence.empty()) sentences.push_back(std::move(sentence));
  return sentences;
}

TaskText ComposeNiah(const NiahParams& params, int64_t units, const RulerResources& resources,
                     SampleRandom& random) {
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values(params.keys);
  std::vector<std::string> needles;
  for (int k = 0; k < params.keys; ++k) {
    keys.push_back(RandomNeedlePart(params.key, resources, random));
    for (int v = 0; v < params.values; ++v) {
      values[k].push_back(RandomNeedlePart(params.value, resources, random));
      needles.push_back(Needle(params.value, keys[k], values[k].back()));
    }
  }
  random.Shuffle(needles);

  std::string context;
  switch (params.haystack) {
    case Haystack::kEssay:
      context = EssayContext(resources, units, needles, random);
      break;
    case Haystack::kNoise:
      context = LineContext(std::vector<std::string>(units, kNoiseParagraph), needles, random);
      break;
    case Haystack::kNeedle: {
      std::vector<std::string> distractors;
      for (int64_t i = 0; i < units; ++i) {
        const std::string key = RandomNeedlePart(params.key, resources, random);
        distractors.push_back(
            Needle(params.value, key, RandomNeedlePart(params.value, resources, random)));
      }
      context = LineContext(std::move(distractors), needles, random);
      break;
    }
  }

  TaskText text;
  std::vector<std::string> queried;
  for (const int64_t k : random.Sample(params.keys, params.queries)) {
    queried.push_back(keys[k]);
    for (const std::string& value : values[k]) text.answers.push_back(value);
  }
  const std::string query =
      queried.size() == 1
          ? queried[0]
          : absl::StrCat(absl::StrJoin(queried.begin(), queried.end() - 1, ", "), ", and ",
                         queried.back());

  // RULER writes the template and answer prefix as one string and, for one answer,
  // rewrites it to the singular with these replacements in this order; a separator
  // keeps the two apart for the split after.
  std::string template_text = absl::StrCat(kTemplate, "\x1f", kAnswerPrefix);
  std::string type = TypeName(params.value);
  if (params.queries * params.values == 1) {
    for (const auto& [from, to] : {std::pair<const char*, const char*>{"Some", "A"},
                                   {"are all", "is"},
                                   {"are", "is"},
                                   {"answers", "answer"}}) {
      template_text = absl::StrReplaceAll(template_text, {{from, to}});
    }
    type.pop_back();
  }
  const std::string filled = FillTemplate(
      template_text, {{"type_needle_v", type}, {"query", query}, {"context", context}});
  const size_t split = filled.rfind('\x1f');
  text.user = filled.substr(0, split);
  text.answer_prefix = filled.substr(split + 1);
  return text;
}

}  // namespace kvlab::ruler

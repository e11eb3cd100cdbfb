#include "eval/ruler/resources.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace kvlab::ruler {

absl::StatusOr<std::vector<std::string>> ReadWordList(const std::string& path) {
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  std::vector<std::string> words;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (!line.empty()) words.emplace_back(line);
  }
  if (words.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: no words (one a line expected)", path));
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

std::vector<std::string> EssayWords(absl::string_view text) {
  std::vector<std::string> words;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "=")) continue;
    for (absl::string_view word : absl::StrSplit(line, absl::ByAnyChar(" \t\r\f\v"),
                                                 absl::SkipEmpty())) {
      words.emplace_back(word);
    }
  }
  return words;
}

absl::StatusOr<RulerResources> LoadRulerResources(const std::string& word_list_dir,
                                                  const std::string& essay_path) {
  RulerResources resources;
  KVLAB_ASSIGN_OR_RETURN(resources.nouns, ReadWordList(word_list_dir + "/nounlist.txt"));
  KVLAB_ASSIGN_OR_RETURN(resources.adjectives,
                         ReadWordList(word_list_dir + "/adjectivelist.txt"));
  KVLAB_ASSIGN_OR_RETURN(resources.verbs, ReadWordList(word_list_dir + "/verblist.txt"));
  KVLAB_ASSIGN_OR_RETURN(const std::string essay, ReadFileToString(essay_path));
  resources.essay_words = EssayWords(essay);
  if (resources.essay_words.size() < 1000) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the essay haystack needs at least 1000 words, got %d", essay_path,
        resources.essay_words.size()));
  }
  return resources;
}

}  // namespace kvlab::ruler

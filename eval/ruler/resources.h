// What RULER's generators draw from besides randomness: word lists and the essay text.
//
// RULER takes its needle keys (adjective-noun pairs) and its common words (nouns,
// adjectives and verbs) from the word lists of the Python package wonderwords, which
// third_party/setup.sh copies into third_party/wordlists. Its essay haystack is Paul
// Graham's essays, which kvlab does not have: any plain text serves in their place
// (kvlab runs use WikiText-2's test split), read as RULER reads the essays, as words
// split on whitespace.
#ifndef KVLAB_EVAL_RULER_RESOURCES_H_
#define KVLAB_EVAL_RULER_RESOURCES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::ruler {

struct RulerResources {
  // wonderwords' lists, each sorted and without duplicates.
  std::vector<std::string> nouns;
  std::vector<std::string> adjectives;
  std::vector<std::string> verbs;
  // The essay haystack: the text's words in order (WikiText headings dropped).
  std::vector<std::string> essay_words;
};

// One word per line, trailing whitespace dropped, empty lines skipped, sorted and
// deduplicated. NotFound or InvalidArgument (an empty list) naming the file.
absl::StatusOr<std::vector<std::string>> ReadWordList(const std::string& path);

// The words of `text` split on whitespace, skipping WikiText heading lines
// (" = Title = "), which are not prose.
std::vector<std::string> EssayWords(absl::string_view text);

// Reads nounlist.txt, adjectivelist.txt and verblist.txt from `word_list_dir` and the
// essay text from `essay_path`. Errors name the file; an essay of fewer than 1000
// words is InvalidArgument.
absl::StatusOr<RulerResources> LoadRulerResources(const std::string& word_list_dir,
                                                  const std::string& essay_path);

}  // namespace kvlab::ruler

#endif  // KVLAB_EVAL_RULER_RESOURCES_H_

#include "eval/ruler/variable_tracking.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kvlab::ruler {

namespace {

// scripts/data/synthetic/constants.py, 'variable_tracking'.
constexpr char kTemplate[] =
    "Memorize and track the chain(s) of variable assignment hidden in the following "
    "text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in "
    "the text above.";
constexpr char kAnswerPrefix[] =
    " Answer: According to the chain(s) of variable assignment in the text above, {num_v} "
    "variables are assigned the value {query}, they are: ";

std::string RandomName(int letters, SampleRandom& random) {
  std::string name;
  for (int i = 0; i < letters; ++i) name += static_cast<char>('A' + random.Uniform(0, 25));
  return name;
}

}  // namespace

TaskText ComposeVariableTrackingTask(int64_t units, int name_letters, SampleRandom& random) {
  // Distinct names, the first holding the number and each next one the one before.
  std::vector<std::string> names;
  std::set<std::string> seen;
  while (names.size() < kVariableTrackingHops + 1) {
    std::string name = RandomName(name_letters, random);
    if (seen.insert(name).second) names.push_back(std::move(name));
  }
  const std::string value = absl::StrCat(random.Uniform(10000, 99998));
  std::vector<std::string> chain = {absl::StrCat("VAR ", names[0], " = ", value)};
  for (int hop = 0; hop < kVariableTrackingHops; ++hop) {
    // RULER's assignments end in a space; kept, as the model sees it there.
    chain.push_back(absl::StrCat("VAR ", names[hop + 1], " = VAR ", names[hop], " "));
  }

  std::vector<std::string> lines(units, kNoiseParagraph);
  std::vector<int64_t> at = random.Sample(units, static_cast<int64_t>(chain.size()));
  std::sort(at.begin(), at.end());
  // Each insertion shifts the later lines by one, so the chain stays in order.
  for (size_t j = 0; j < chain.size(); ++j) lines.insert(lines.begin() + at[j] + j, chain[j]);

  TaskText text;
  const std::string num_v = absl::StrCat(kVariableTrackingHops + 1);
  text.user = FillTemplate(kTemplate, {{"query", value}, {"context", absl::StrJoin(lines, "\n")}});
  text.answer_prefix = FillTemplate(kAnswerPrefix, {{"num_v", num_v}, {"query", value}});
  text.answers = names;
  return text;
}

TaskText ComposeVariableTracking(int64_t units, int64_t example_units, SampleRandom& random) {
  const TaskText example = ComposeVariableTrackingTask(example_units, 3, random);
  TaskText text = ComposeVariableTrackingTask(units, 5, random);
  text.user = absl::StrCat(example.user, example.answer_prefix, " ",
                           absl::StrJoin(example.answers, " "), "\n\n", text.user);
  return text;
}

}  // namespace kvlab::ruler

#include "eval/ruler/tasks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace kvlab::ruler {

namespace {

constexpr NiahParams Niah(Haystack haystack, NeedleType key, NeedleType value, int keys,
                          int values, int queries) {
  return NiahParams{haystack, key, value, keys, values, queries};
}

using H = Haystack;
using N = NeedleType;

// scripts/synthetic.yaml; output lengths from scripts/data/synthetic/constants.py.
constexpr TaskSpec kTasks[] = {
    {"niah_single_1", TaskFamily::kNiah, 128, Niah(H::kNoise, N::kWords, N::kNumbers, 1, 1, 1)},
    {"niah_single_2", TaskFamily::kNiah, 128, Niah(H::kEssay, N::kWords, N::kNumbers, 1, 1, 1)},
    {"niah_single_3", TaskFamily::kNiah, 128, Niah(H::kEssay, N::kWords, N::kUuids, 1, 1, 1)},
    {"niah_multikey_1", TaskFamily::kNiah, 128,
     Niah(H::kEssay, N::kWords, N::kNumbers, 4, 1, 1)},
    {"niah_multikey_2", TaskFamily::kNiah, 128,
     Niah(H::kNeedle, N::kWords, N::kNumbers, 1, 1, 1)},
    {"niah_multikey_3", TaskFamily::kNiah, 128, Niah(H::kNeedle, N::kUuids, N::kUuids, 1, 1, 1)},
    {"niah_multivalue", TaskFamily::kNiah, 128,
     Niah(H::kEssay, N::kWords, N::kNumbers, 1, 4, 1)},
    {"niah_multiquery", TaskFamily::kNiah, 128,
     Niah(H::kEssay, N::kWords, N::kNumbers, 4, 1, 4)},
    {"vt", TaskFamily::kVariableTracking, 30, {}},
    {"cwe", TaskFamily::kCommonWords, 120, {}},
    {"fwe", TaskFamily::kFrequentWords, 50, {}},
};

}  // namespace

absl::Span<const TaskSpec> RulerTasks() { return kTasks; }

absl::StatusOr<TaskSpec> FindRulerTask(absl::string_view name) {
  std::vector<std::string> names;
  for (const TaskSpec& task : kTasks) {
    if (name == task.name) return task;
    names.push_back(task.name);
  }
  return absl::NotFoundError(absl::StrFormat("unknown RULER task '%s' (known: %s)", name,
                                             absl::StrJoin(names, ", ")));
}

std::string FillTemplate(
    absl::string_view text,
    std::initializer_list<std::pair<absl::string_view, std::string>> values) {
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const auto& [name, value] : values) {
    replacements.emplace_back(absl::StrCat("{", name, "}"), value);
  }
  return absl::StrReplaceAll(text, replacements);
}

}  // namespace kvlab::ruler

// Prints a side-by-side table of two or more result sets, with deltas against the
// first (and their paired 95% intervals where both sets kept per-token NLLs,
// keep_token_nlls):
//
//   bazel run //experiments:compare -- results/quant_chunked docs/results/quant_chunked
//
// Each argument is a results.json or the directory holding one.
#include <cstdio>
#include <filesystem>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "experiments/compare.h"
#include "experiments/token_nlls.h"

namespace kvlab::experiments {
namespace {

absl::StatusOr<ResultSet> Load(const std::string& argument) {
  std::filesystem::path path(ResolveUserPath(argument));
  if (std::filesystem::is_directory(path)) path /= "results.json";
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path.string()));
  ResultSet set;
  set.label = path.parent_path().filename().string();
  KVLAB_ASSIGN_OR_RETURN(set.records, ParseResultsJson(text, path.string()));
  // Per-token NLLs where the experiment kept them (keep_token_nlls); a run without
  // them is compared without a paired interval.
  for (const RunRecord& r : set.records) {
    absl::StatusOr<std::vector<float>> nlls =
        ReadTokenNlls(TokenNllsFile(path.parent_path().string(), r.name));
    if (nlls.ok()) {
      set.token_nlls[r.name] = *std::move(nlls);
    } else if (!absl::IsNotFound(nlls.status())) {
      return nlls.status();
    }
  }
  return set;
}

absl::Status Run(const std::vector<char*>& arguments) {
  if (arguments.size() < 3) {
    return absl::InvalidArgumentError("usage: compare <results.json|dir> <results.json|dir> ...");
  }
  std::vector<ResultSet> sets;
  for (size_t i = 1; i < arguments.size(); ++i) {
    KVLAB_ASSIGN_OR_RETURN(ResultSet set, Load(arguments[i]));
    // Two sets from directories of the same name still need telling apart.
    for (const ResultSet& other : sets) {
      if (other.label == set.label) set.label = absl::StrFormat("%s#%d", set.label, i);
    }
    sets.push_back(std::move(set));
  }
  absl::PrintF("%s", CompareTable(sets));
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::experiments

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("compare <results.json|dir> <results.json|dir> ...");
  const std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::experiments::Run(arguments);
  if (!status.ok()) {
    absl::FPrintF(stderr, "compare: %s\n", status.message());
    return 1;
  }
  return 0;
}

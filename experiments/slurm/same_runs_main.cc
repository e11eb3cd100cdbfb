// Checks that two results.json files hold the same runs with the same numbers (all
// but wall-clock time), printing each difference; exits 0 only when there is none:
//
//   same_runs results/single/results.json results/sharded/results.json
#include <cstdio>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/status_macros.h"
#include "experiments/slurm/same_runs.h"

namespace kvlab::experiments {
namespace {

absl::Status Check(const std::vector<char*>& arguments) {
  if (arguments.size() != 3) {
    return absl::InvalidArgumentError("usage: same_runs <results.json> <results.json>");
  }
  const std::string path_a = ResolveUserPath(arguments[1]);
  const std::string path_b = ResolveUserPath(arguments[2]);
  KVLAB_ASSIGN_OR_RETURN(const std::string a, ReadFileToString(path_a));
  KVLAB_ASSIGN_OR_RETURN(const std::string b, ReadFileToString(path_b));
  KVLAB_ASSIGN_OR_RETURN(const std::vector<std::string> differences,
                         RunDifferences(a, path_a, b, path_b));
  for (const std::string& line : differences) absl::PrintF("%s\n", line);
  if (!differences.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s and %s differ in %d places", path_a, path_b, differences.size()));
  }
  absl::PrintF("%s and %s hold the same runs with the same results\n", path_a, path_b);
  return absl::OkStatus();
}

}  // namespace
}  // namespace kvlab::experiments

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("same_runs <results.json> <results.json>");
  const std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);
  const absl::Status status = kvlab::experiments::Check(arguments);
  if (!status.ok()) {
    absl::FPrintF(stderr, "same_runs: %s\n", status.message());
    return 1;
  }
  return 0;
}

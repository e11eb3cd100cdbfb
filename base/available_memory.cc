#include "base/available_memory.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"

namespace kvlab {
namespace {

double GiB(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

absl::StatusOr<int64_t> ParseMemAvailable(absl::string_view meminfo, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    if (!absl::ConsumePrefix(&line, "MemAvailable:")) continue;
    // "MemAvailable:   21474836 kB"
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kib = 0;
    if (fields.size() != 2 || fields[1] != "kB" || !absl::SimpleAtoi(fields[0], &kib) ||
        kib < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: expected 'MemAvailable: <n> kB', got 'MemAvailable:%s'", name,
                          line));
    }
    return kib * 1024;
  }
  return absl::InvalidArgumentError(absl::StrFormat("%s: no MemAvailable line", name));
}

absl::StatusOr<int64_t> AvailableMemoryBytes() {
  const std::string path = "/proc/meminfo";
  absl::StatusOr<std::string> meminfo = ReadFileToString(path);
  if (!meminfo.ok()) return meminfo.status();
  return ParseMemAvailable(*meminfo, path);
}

absl::Status CheckFitsInMemory(int64_t weight_bytes, int64_t cache_bytes,
                               int64_t available_bytes) {
  if (weight_bytes + cache_bytes <= available_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "the model does not fit in memory: its weights need %.2f GiB and the largest caches "
      "%.2f GiB, but only %.2f GiB is available (MemAvailable)",
      GiB(weight_bytes), GiB(cache_bytes), GiB(available_bytes)));
}

}  // namespace kvlab

#include "experiments/shard.h"

#include <xxhash.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace kvlab::experiments {

std::string Shard::ToString() const { return absl::StrFormat("%d/%d", index, count); }

absl::StatusOr<Shard> ParseShard(absl::string_view text, absl::string_view source) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  Shard shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) ||
      !absl::SimpleAtoi(parts[1], &shard.count) || shard.count < 1 || shard.index < 0 ||
      shard.index >= shard.count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expected I/N with 0 <= I < N (e.g. 0/3), got '%s'", source, text));
  }
  return shard;
}

std::vector<std::vector<int>> LockstepBatches(int num_caches, int batch_caches) {
  const int size = std::max(1, batch_caches);
  std::vector<std::vector<int>> batches;
  for (int begin = 0; begin < num_caches; begin += size) {
    std::vector<int>& batch = batches.emplace_back();
    for (int i = begin; i < std::min(num_caches, begin + size); ++i) batch.push_back(i);
  }
  return batches;
}

int ShardOf(const std::vector<std::string>& names, int count) {
  // NUL ends each name (names hold none), so ["ab", "c"] and ["a", "bc"] differ.
  std::string input;
  for (const std::string& name : names) input.append(name).push_back('\0');
  const XXH64_hash_t hash = XXH3_64bits(input.data(), input.size());
  return static_cast<int>(hash % static_cast<XXH64_hash_t>(std::max(1, count)));
}

std::vector<std::vector<int>> ShardBatches(const std::vector<std::string>& cache_names,
                                           int batch_caches, const Shard& shard) {
  std::vector<std::vector<int>> mine;
  for (std::vector<int>& batch :
       LockstepBatches(static_cast<int>(cache_names.size()), batch_caches)) {
    std::vector<std::string> names;
    for (const int i : batch) names.push_back(cache_names[i]);
    if (ShardOf(names, shard.count) == shard.index) mine.push_back(std::move(batch));
  }
  return mine;
}

}  // namespace kvlab::experiments

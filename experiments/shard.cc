#include "experiments/shard.h"

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

std::vector<std::vector<int>> ShardBatches(int num_caches, int batch_caches, const Shard& shard) {
  std::vector<std::vector<int>> mine;
  std::vector<std::vector<int>> all = LockstepBatches(num_caches, batch_caches);
  for (size_t b = 0; b < all.size(); ++b) {
    if (static_cast<int>(b % shard.count) == shard.index) mine.push_back(std::move(all[b]));
  }
  return mine;
}

}  // namespace kvlab::experiments

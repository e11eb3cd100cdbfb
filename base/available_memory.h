// How much memory the machine can give a new allocation without swapping: the kernel's
// MemAvailable estimate (/proc/meminfo), which counts free memory plus the page cache
// and reclaimable slabs it can drop.
//
//   KVLAB_ASSIGN_OR_RETURN(int64_t available, AvailableMemoryBytes());
//   KVLAB_RETURN_IF_ERROR(CheckFitsInMemory(weights, cache, available));
#ifndef KVLAB_BASE_AVAILABLE_MEMORY_H_
#define KVLAB_BASE_AVAILABLE_MEMORY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// MemAvailable in bytes from the text of a /proc/meminfo (`name` for messages);
// InvalidArgument naming it if the line is missing or malformed.
absl::StatusOr<int64_t> ParseMemAvailable(absl::string_view meminfo, const std::string& name);

// MemAvailable of this machine, from /proc/meminfo.
absl::StatusOr<int64_t> AvailableMemoryBytes();

// ResourceExhausted, one line giving both figures and the available memory, if
// `weight_bytes` plus `cache_bytes` exceed `available_bytes`.
absl::Status CheckFitsInMemory(int64_t weight_bytes, int64_t cache_bytes,
                               int64_t available_bytes);

}  // namespace kvlab

#endif  // KVLAB_BASE_AVAILABLE_MEMORY_H_

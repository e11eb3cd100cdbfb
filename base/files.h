// File helpers shared by kvlab's binaries.
#ifndef KVLAB_BASE_FILES_H_
#define KVLAB_BASE_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// Resolves a path given by a user on the command line or in a config. `bazel run`
// starts binaries inside their runfiles tree, so a relative path is taken relative to
// the directory `bazel run` was invoked from (BUILD_WORKING_DIRECTORY) when set, and
// to the current directory otherwise. Absolute and empty paths are returned as is.
std::string ResolveUserPath(absl::string_view path);

// Reads a whole file. NotFound names the file if it cannot be opened.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to `path` atomically: to a temporary file in the same directory,
// fsynced, renamed over `path`, then the directory fsynced. Readers (and a machine
// that loses power) see the old file or the new one, never a partial write. A failed
// write (a full disk, a read-only directory) leaves `path` as it was and no temporary
// behind. Creates missing parent directories.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace kvlab

#endif  // KVLAB_BASE_FILES_H_

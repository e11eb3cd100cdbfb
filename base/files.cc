#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kvlab {

std::string ResolveUserPath(absl::string_view path) {
  if (path.empty() || path.front() == '/') return std::string(path);
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (base == nullptr || *base == '\0') return std::string(path);
  return absl::StrCat(base, "/", path);
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  // A directory opens as a stream and then fails to read: say what it is.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: is a directory; expected a file", path));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(
        absl::StrFormat("%s: cannot open for reading: %s", path, std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrFormat("%s: read failed", path));
  return contents.str();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::filesystem::path target(path);
  std::error_code error;
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), error);
    if (error) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "%s: cannot create directory: %s", target.parent_path().string(), error.message()));
    }
  }
  std::string temp = absl::StrCat(path, ".tmp.XXXXXX");
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s: cannot create temporary file: %s", path, std::strerror(errno)));
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return absl::DataLossError(absl::StrFormat("%s: write failed: %s", path, std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; results are meant to be shared like any other file.
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return absl::DataLossError(absl::StrFormat("%s: flush failed: %s", path, std::strerror(err)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return absl::DataLossError(
        absl::StrFormat("%s: rename from temporary failed: %s", path, std::strerror(err)));
  }
  // The rename is durable only once the directory entry is: without this, a power
  // loss can leave the old file (or none) although the new one was reported written.
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const int err = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return absl::DataLossError(
        absl::StrFormat("%s: cannot sync its directory: %s", path, std::strerror(err)));
  }
  ::close(dir_fd);
  return absl::OkStatus();
}

}  // namespace kvlab

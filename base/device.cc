#include "base/device.h"

#include <ATen/Context.h>

#include "absl/strings/str_format.h"

namespace kvlab {

absl::Status CheckDeviceAvailable(c10::Device device) {
  if (device.is_cpu()) return absl::OkStatus();
  if (device.is_cuda()) {
    if (!at::hasCUDA()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "device '%s' requested, but this LibTorch build has no CUDA support", device.str()));
    }
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("device '%s' is not supported (use cpu or cuda)", device.str()));
}

}  // namespace kvlab

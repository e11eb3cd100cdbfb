// CheckOnDevice: a check whose condition is a tensor on the data's device.
//
// On the CPU the condition is read at once and a false one returns `error`. On a GPU,
// reading it would stall the host until the device catches up, on every decode step;
// there it becomes an asynchronous device assertion carrying `error`'s message, which
// fails the next call that waits for the device.
#ifndef KVLAB_CORE_DEVICE_CHECK_H_
#define KVLAB_CORE_DEVICE_CHECK_H_

#include <ATen/ATen.h>

#include <string>

#include "absl/status/status.h"

namespace kvlab {

// `condition`: a one-element bool tensor.
inline absl::Status CheckOnDevice(const at::Tensor& condition, absl::Status error) {
  if (condition.is_cpu()) return condition.item<bool>() ? absl::OkStatus() : error;
  at::_assert_async(condition, std::string(error.message()));
  return absl::OkStatus();
}

}  // namespace kvlab

#endif  // KVLAB_CORE_DEVICE_CHECK_H_

// Devices: whether this LibTorch build can hold tensors on a given device.
//
//   KVLAB_RETURN_IF_ERROR(CheckDeviceAvailable(c10::Device("cuda:0")));
#ifndef KVLAB_BASE_DEVICE_H_
#define KVLAB_BASE_DEVICE_H_

#include <c10/core/Device.h>

#include "absl/status/status.h"

namespace kvlab {

// OK for the CPU, and for CUDA when this LibTorch build has CUDA support;
// FailedPrecondition naming the device otherwise.
absl::Status CheckDeviceAvailable(c10::Device device);

}  // namespace kvlab

#endif  // KVLAB_BASE_DEVICE_H_

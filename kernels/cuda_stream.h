// PyTorch's current CUDA stream, for the CUDA launchers (which take it as a void* so
// that C++ callers need no CUDA headers). Internal to kernels/.
#ifndef KVLAB_KERNELS_CUDA_STREAM_H_
#define KVLAB_KERNELS_CUDA_STREAM_H_

#include <c10/core/Device.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

namespace kvlab::kernels {

// The cudaStream_t PyTorch is issuing work to on `device` (a CUDA device), so that
// kvlab's kernels order with ATen's.
inline void* CurrentCudaStream(const c10::Device& device) {
  return c10::impl::getDeviceGuardImpl(device.type())->getStream(device).native_handle();
}

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_CUDA_STREAM_H_

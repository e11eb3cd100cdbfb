// Whether this build carries kvlab's CUDA kernels.
//
// CUDA is optional: a default build links LibTorch's CPU libraries only and has no
// CUDA tensors to dispatch, so the CUDA launchers are left out and each kernel's CUDA
// branch returns CudaNotBuilt(). `bazel build --config=cuda` compiles the kernels with
// nvcc, links LibTorch's CUDA libraries and defines KVLAB_WITH_CUDA=1.
#ifndef KVLAB_KERNELS_CUDA_BUILD_H_
#define KVLAB_KERNELS_CUDA_BUILD_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#ifndef KVLAB_WITH_CUDA
#define KVLAB_WITH_CUDA 0
#endif

namespace kvlab::kernels {

// The error a CUDA tensor meets in a build without the CUDA kernels.
inline absl::Status CudaNotBuilt() {
  return absl::FailedPreconditionError(
      "this kvlab build has no CUDA kernels: build it with --config=cuda on a machine with "
      "the CUDA toolkit");
}

// A CUDA launcher's result (nullptr, or the launch error's text) as a Status naming
// the kernel. absl::string_view, which StrCat takes: Debian's Abseil is built with
// its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), not std::string_view.
inline absl::Status CudaLaunchStatus(absl::string_view kernel, const char* error) {
  if (error == nullptr) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(kernel, ": CUDA launch failed: ", error));
}

}  // namespace kvlab::kernels

#endif  // KVLAB_KERNELS_CUDA_BUILD_H_

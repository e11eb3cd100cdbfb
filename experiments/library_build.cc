#include "experiments/library_build.h"

#include <ATen/Version.h>

#include "absl/strings/str_cat.h"
#include "kernels/cuda_build.h"  // KVLAB_WITH_CUDA, defined for this file by its BUILD rule.

namespace kvlab::experiments {

std::string LibraryBuild() {
  return absl::StrCat(at::show_config(), "\ncpu capability: ", at::get_cpu_capability(),
                      "\nkvlab cuda kernels: ", KVLAB_WITH_CUDA);
}

}  // namespace kvlab::experiments

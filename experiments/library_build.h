// What computes a run on this machine, for run fingerprints (run_settings.h).
#ifndef KVLAB_EXPERIMENTS_LIBRARY_BUILD_H_
#define KVLAB_EXPERIMENTS_LIBRARY_BUILD_H_

#include <string>

namespace kvlab::experiments {

// LibTorch's build as it describes itself (version, compiler, BLAS, oneDNN, OpenMP,
// CUDA), the CPU kernels ATen dispatches to on this processor (its CPU capability:
// AVX2, AVX512, ...), and whether this kvlab build carries its CUDA kernels. Two
// machines that differ here may compute a different last bit.
std::string LibraryBuild();

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_LIBRARY_BUILD_H_

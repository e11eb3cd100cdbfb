// GgmlCpu: ggml's CPU backend, the reference kernels of GGUF's block formats.
//
// ggml is built with one CPU backend module per x86 level (third_party/setup.sh); the
// first Get() loads the best one this CPU runs from the installed folder, starts the
// backend and a persistent thread pool, and keeps them for the process. Everything
// goes through ggml's backend and device API (no ggml-cpu symbol is linked), so one
// build serves AVX2 and AVX-512 machines alike.
//
//   KVLAB_ASSIGN_OR_RETURN(GgmlCpu* cpu, GgmlCpu::Get());
//   KVLAB_RETURN_IF_ERROR(cpu->Compute(graph, /*threads=*/2));
//
// Compute() serialises callers: the backend holds one thread pool and work buffer.
#ifndef KVLAB_EVAL_MODEL_GGML_CPU_H_
#define KVLAB_EVAL_MODEL_GGML_CPU_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ggml-backend.h"
#include "ggml.h"

namespace kvlab::model {

class GgmlCpu {
 public:
  // The process's CPU backend, loaded on first use; Unavailable (naming the folder) if
  // no CPU backend module loads.
  static absl::StatusOr<GgmlCpu*> Get();

  ggml_backend_dev_t device() const { return device_; }
  // The CPU features the loaded module was built for (e.g. "AVX2 AVX512 ..."), for reports.
  const std::string& features() const { return features_; }

  // Runs `graph` on `threads` threads (at least 1). Internal naming the op on failure.
  absl::Status Compute(ggml_cgraph* graph, int threads);

 private:
  GgmlCpu() = default;
  absl::Status Start();

  ggml_backend_dev_t device_ = nullptr;
  ggml_backend_t backend_ = nullptr;
  std::string features_;
  absl::Mutex mutex_;
  ggml_threadpool_t threadpool_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int threadpool_threads_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGML_CPU_H_

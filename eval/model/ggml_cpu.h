// GgmlCpu: ggml's CPU backend, the reference kernels of GGUF's block formats.
//
// ggml is built with one CPU backend module per x86 level (third_party/setup.sh); the
// first Get() loads the best one this CPU runs from the installed folder and keeps it
// for the process. Everything goes through ggml's backend and device API (no ggml-cpu
// symbol is linked), so one build serves AVX2 and AVX-512 machines alike.
//
// Each graph runs on one thread, in a backend of its own "slot" (its work buffer and a
// one-thread pool). Callers parallelise by splitting a product into graphs and running
// them on ATen's threads, slot = at::get_thread_num(): one thread pool (ATen's OpenMP)
// then serves the whole forward pass. A second pool of ggml workers beside it would
// spin in ggml's barriers while OpenMP's threads spin for their next region, each
// taking the other's core.
//
//   KVLAB_ASSIGN_OR_RETURN(GgmlCpu* cpu, GgmlCpu::Get());
//   KVLAB_RETURN_IF_ERROR(cpu->Compute(graph, /*slot=*/at::get_thread_num()));
//
// Compute() serialises callers of one slot; different slots run concurrently.
#ifndef KVLAB_EVAL_MODEL_GGML_CPU_H_
#define KVLAB_EVAL_MODEL_GGML_CPU_H_

#include <array>
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

  // Runs `graph` on the calling thread in the backend of `slot` (>= 0; slots past the
  // last share backends). Internal naming the op on failure.
  absl::Status Compute(ggml_cgraph* graph, int slot);

 private:
  // More than any thread count a CPU run asks for; beyond, slots share (and lock).
  static constexpr int kSlots = 256;
  struct Slot {
    absl::Mutex mutex;
    // Started on the slot's first graph.
    ggml_backend_t backend ABSL_GUARDED_BY(mutex) = nullptr;
  };

  GgmlCpu() = default;
  absl::Status Start();
  // A backend computing on its caller's thread alone.
  absl::StatusOr<ggml_backend_t> StartBackend() const;

  ggml_backend_dev_t device_ = nullptr;
  std::string features_;
  std::array<Slot, kSlots> slots_;
};

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGML_CPU_H_

#include "eval/model/ggml_cpu.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "ggml-cpu.h"
#include "ggml_install/backend_dir.h"

namespace kvlab::model {
namespace {

// ggml's own messages: warnings and errors to stderr, its progress notes dropped.
void Log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) {
    std::fputs(text, stderr);
  }
}

template <typename Function>
Function ProcAddress(ggml_backend_reg_t reg, const char* name) {
  return reinterpret_cast<Function>(ggml_backend_reg_get_proc_address(reg, name));
}

using ThreadpoolNew = ggml_threadpool_t (*)(ggml_threadpool_params*);
using SetThreadpool = void (*)(ggml_backend_t, ggml_threadpool_t);

}  // namespace

absl::StatusOr<GgmlCpu*> GgmlCpu::Get() {
  // Loaded once; a failure is remembered, so every caller gets the same message.
  static const absl::StatusOr<GgmlCpu*>* const cpu = [] {
    auto* instance = new GgmlCpu();
    const absl::Status started = instance->Start();
    if (!started.ok()) {
      delete instance;
      return new absl::StatusOr<GgmlCpu*>(started);
    }
    return new absl::StatusOr<GgmlCpu*>(instance);
  }();
  return *cpu;
}

absl::Status GgmlCpu::Start() {
  ggml_log_set(Log, nullptr);
  ggml_backend_load_all_from_path(KVLAB_GGML_BACKEND_DIR);
  device_ = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (device_ == nullptr) {
    return absl::UnavailableError(absl::StrFormat(
        "no ggml CPU backend loads from %s (run third_party/setup.sh)", KVLAB_GGML_BACKEND_DIR));
  }
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(device_);
  if (auto get_features =
          ProcAddress<ggml_backend_get_features_t>(reg, "ggml_backend_get_features")) {
    for (ggml_backend_feature* f = get_features(reg); f != nullptr && f->name != nullptr; ++f) {
      absl::StrAppend(&features_, features_.empty() ? "" : " ", f->name);
    }
  }
  // The first slot now, so that a backend that cannot start says so at once.
  Slot& first = slots_[0];
  absl::MutexLock lock(&first.mutex);
  absl::StatusOr<ggml_backend_t> backend = StartBackend();
  if (!backend.ok()) return backend.status();
  first.backend = *backend;
  return absl::OkStatus();
}

absl::StatusOr<ggml_backend_t> GgmlCpu::StartBackend() const {
  ggml_backend_t backend = ggml_backend_dev_init(device_, nullptr);
  if (backend == nullptr) return absl::UnavailableError("ggml's CPU backend did not start");
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(device_);
  if (const auto set_threads =
          ProcAddress<ggml_backend_set_n_threads_t>(reg, "ggml_backend_set_n_threads")) {
    set_threads(backend, 1);
  }
  // A persistent one-thread pool (it starts no thread): without one, ggml builds and
  // frees a pool for every graph.
  const auto threadpool_new = ProcAddress<ThreadpoolNew>(reg, "ggml_threadpool_new");
  const auto set_threadpool = ProcAddress<SetThreadpool>(reg, "ggml_backend_cpu_set_threadpool");
  if (threadpool_new != nullptr && set_threadpool != nullptr) {
    ggml_threadpool_params params = ggml_threadpool_params_default(1);
    ggml_threadpool_t pool = threadpool_new(&params);
    if (pool == nullptr) {
      ggml_backend_free(backend);
      return absl::InternalError("ggml could not start its thread pool");
    }
    // Kept for the process, as the backend is.
    set_threadpool(backend, pool);
  }
  return backend;
}

absl::Status GgmlCpu::Compute(ggml_cgraph* graph, int slot) {
  Slot& s = slots_[std::max(slot, 0) % kSlots];
  absl::MutexLock lock(&s.mutex);
  if (s.backend == nullptr) {
    KVLAB_ASSIGN_OR_RETURN(s.backend, StartBackend());
  }
  const ggml_status status = ggml_backend_graph_compute(s.backend, graph);
  if (status != GGML_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrFormat("ggml's CPU backend failed (%s) computing %s",
                                               ggml_status_to_string(status),
                                               ggml_op_desc(ggml_graph_node(graph, -1))));
  }
  return absl::OkStatus();
}

}  // namespace kvlab::model

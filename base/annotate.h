// Annotate: context added to an error on its way up, its code kept.
//
//   absl::StatusOr<std::unique_ptr<TensorStore>> store = quantizer->MakeStore(spec);
//   if (!store.ok()) return Annotate(store.status(), "caches[0].keys.quantized");
//
// gives "caches[0].keys.quantized: group_size 48 must divide head_dim 64" as the
// InvalidArgument it was, rather than a new error of some other code.
#ifndef KVLAB_BASE_ANNOTATE_H_
#define KVLAB_BASE_ANNOTATE_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// `status` with "context: " put before its message; code unchanged. OK stays OK.
inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace kvlab

#endif  // KVLAB_BASE_ANNOTATE_H_

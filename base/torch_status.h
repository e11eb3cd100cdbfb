// Turning LibTorch exceptions into absl::Status at the boundary.
//
//   return CatchTorchErrors("loading weights", [&]() -> absl::StatusOr<at::Tensor> {
//     return weights.to(device);
//   });
#ifndef KVLAB_BASE_TORCH_STATUS_H_
#define KVLAB_BASE_TORCH_STATUS_H_

#include <c10/util/Exception.h>

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kvlab {

// The first line of a c10::Error's message (the rest is a C++ backtrace).
inline std::string TorchErrorSummary(const c10::Error& error) {
  const std::string& message = error.msg();
  return message.substr(0, message.find('\n'));
}

// Runs `body` (returning absl::Status or absl::StatusOr<T>) and converts a c10::Error or
// std::exception it throws into InternalError prefixed by `context`.
template <typename Body>
auto CatchTorchErrors(absl::string_view context, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat(context, ": ", TorchErrorSummary(error)));
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat(context, ": ", error.what()));
  }
}

}  // namespace kvlab

#endif  // KVLAB_BASE_TORCH_STATUS_H_

// Status propagation helpers.
//
// Abseil 20220623 ships neither RETURN_IF_ERROR nor ASSIGN_OR_RETURN; these two macros
// are the whole of what kvlab needs:
//
//   KVLAB_RETURN_IF_ERROR(file.Validate());
//   KVLAB_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
#ifndef KVLAB_BASE_STATUS_MACROS_H_
#define KVLAB_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define KVLAB_RETURN_IF_ERROR(expr)                    \
  do {                                                 \
    const ::absl::Status kvlab_status_ = (expr);       \
    if (!kvlab_status_.ok()) return kvlab_status_;     \
  } while (false)

#define KVLAB_STATUS_CONCAT_INNER_(a, b) a##b
#define KVLAB_STATUS_CONCAT_(a, b) KVLAB_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise
// moves the value into `lhs`, which may be a declaration.
#define KVLAB_ASSIGN_OR_RETURN(lhs, rexpr) \
  KVLAB_ASSIGN_OR_RETURN_IMPL_(KVLAB_STATUS_CONCAT_(kvlab_statusor_, __LINE__), lhs, rexpr)

#define KVLAB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // KVLAB_BASE_STATUS_MACROS_H_

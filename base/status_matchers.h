// GoogleTest matchers for absl::Status and absl::StatusOr (Abseil 20220623 has none).
//
//   EXPECT_THAT(ParseConfig(text), IsOk());
//   EXPECT_THAT(GgufFile::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
#ifndef KVLAB_BASE_STATUS_MATCHERS_H_
#define KVLAB_BASE_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace kvlab {
namespace testing_internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace testing_internal

// Matches an OK absl::Status or absl::StatusOr.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = testing_internal::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

// Matches a non-OK status with the given code and a message matching `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& status = testing_internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace kvlab

#endif  // KVLAB_BASE_STATUS_MATCHERS_H_

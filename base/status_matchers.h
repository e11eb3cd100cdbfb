// GoogleTest matchers and an assertion for absl::Status and absl::StatusOr (Abseil
// 20220623 has none).
//
//   EXPECT_THAT(ParseConfig(text), IsOk());
//   EXPECT_THAT(GgufFile::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
//   EXPECT_THAT(file.GetInt("llama.block_count"), IsOkAndHolds(30));
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
//   return ValueOrAddFailure(GgufFile::Open(path));  // In a helper returning the file.
#ifndef KVLAB_BASE_STATUS_MATCHERS_H_
#define KVLAB_BASE_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

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

// Matches an OK absl::StatusOr whose value matches `value_matcher` (a matcher or a
// value to compare with ==).
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

// For test helpers that return a value and so cannot ASSERT: the value of `status_or`,
// or, after a non-fatal failure naming its status, a default-constructed T (a null
// pointer, an undefined tensor) that the caller's next check fails on.
template <typename T>
T ValueOrAddFailure(absl::StatusOr<T> status_or) {
  if (status_or.ok()) return *std::move(status_or);
  ADD_FAILURE() << "expected an OK status, got " << status_or.status();
  return T();
}

}  // namespace kvlab

// ASSERT_OK_AND_ASSIGN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>); if it is
// not OK, fails the test there (a fatal failure naming the expression and the status,
// as ASSERT_* does, so only in functions returning void); otherwise moves the value
// into `lhs`, which may be a declaration:
//
//   ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> budgets, LayerBudgets(budget, 3, 0));
//
// Each use declares a temporary named after its line, so two may not share a line.
#define ASSERT_OK_AND_ASSIGN(lhs, ...)                                                            \
  KVLAB_ASSERT_OK_AND_ASSIGN_IMPL_(KVLAB_MATCHERS_CONCAT_(kvlab_assert_statusor_, __LINE__), lhs, \
                                   __VA_ARGS__)

#define KVLAB_MATCHERS_CONCAT_INNER_(a, b) a##b
#define KVLAB_MATCHERS_CONCAT_(a, b) KVLAB_MATCHERS_CONCAT_INNER_(a, b)
#define KVLAB_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, ...)               \
  auto statusor = (__VA_ARGS__);                                           \
  ASSERT_TRUE(statusor.ok()) << #__VA_ARGS__ << ": " << statusor.status(); \
  lhs = std::move(statusor).value()

#endif  // KVLAB_BASE_STATUS_MATCHERS_H_

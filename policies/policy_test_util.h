// Helpers for policy tests: make a registered policy, build synthetic contexts, read
// back the positions a policy keeps.
#ifndef KVLAB_POLICIES_POLICY_TEST_UTIL_H_
#define KVLAB_POLICIES_POLICY_TEST_UTIL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/eviction_policy.h"
#include "google/protobuf/message.h"

namespace kvlab::policies::testing {

// Creates the registered policy `name` with `options` packed into an Any.
absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakePolicy(
    const std::string& name, const google::protobuf::Message& options);

// A context of `length` tokens at positions 0..length-1 in every one of `kv_heads`
// heads, with the given budget and no statistics.
EvictionContext MakeContext(int64_t kv_heads, int64_t length, int64_t budget);

// The sorted positions of the tokens `policy` keeps: [kv_heads, budget] int64.
at::Tensor KeptPositions(EvictionPolicy& policy, const EvictionContext& context);

}  // namespace kvlab::policies::testing

#endif  // KVLAB_POLICIES_POLICY_TEST_UTIL_H_

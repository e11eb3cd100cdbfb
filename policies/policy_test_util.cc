#include "policies/policy_test_util.h"

#include <ATen/ATen.h>

#include <tuple>

#include "google/protobuf/any.pb.h"

namespace kvlab::policies::testing {

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakePolicy(
    const std::string& name, const google::protobuf::Message& options) {
  google::protobuf::Any any;
  any.PackFrom(options);
  return EvictionPolicyRegistry().Create(name, any);
}

EvictionContext MakeContext(int64_t kv_heads, int64_t length, int64_t budget) {
  EvictionContext context;
  context.num_layers = 1;
  context.budget = budget;
  context.step = length;
  context.positions = at::arange(length, at::kLong).unsqueeze(0).repeat({kv_heads, 1});
  return context;
}

at::Tensor KeptPositions(EvictionPolicy& policy, const EvictionContext& context) {
  absl::StatusOr<at::Tensor> keep = policy.SelectKeep(context);
  if (!keep.ok()) return at::Tensor();
  return std::get<0>(context.positions.gather(1, *keep).sort(1));
}

}  // namespace kvlab::policies::testing

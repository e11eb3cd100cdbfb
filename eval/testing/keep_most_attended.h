// A test eviction policy whose choice depends on the attention statistics the cache
// gathers: it keeps the tokens with the most accumulated attention (H2O's score, with
// no recent window). Tests of the protocols' engines use it to check that a shared
// prefill hands each cache the same statistics a prefill of its own would.
#ifndef KVLAB_EVAL_TESTING_KEEP_MOST_ATTENDED_H_
#define KVLAB_EVAL_TESTING_KEEP_MOST_ATTENDED_H_

#include <ATen/ATen.h>

#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "core/eviction_policy.h"

namespace kvlab::testing {

class KeepMostAttended : public EvictionPolicy {
 public:
  std::string Name() const override { return "keep-most-attended"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.accumulated_attention = true;
    return needs;
  }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    return std::get<1>(context.accumulated_attention.topk(context.budget, -1));
  }
};

}  // namespace kvlab::testing

#endif  // KVLAB_EVAL_TESTING_KEEP_MOST_ATTENDED_H_

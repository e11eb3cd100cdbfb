#include "experiments/sweep.h"

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "quant/integer.pb.h"

namespace kvlab::experiments {

namespace {

// One axis: its values' name components and how each changes a cache.
struct Axis {
  std::vector<std::string> names;
  std::vector<std::function<absl::Status(config::CacheConfig&)>> apply;
  // Named even with one value (see CombineAxes).
  bool always_named = false;
};

// Whether the store uses one of the integer quantizers, whose options the axes edit.
bool UsesIntegerQuantizer(const config::StoreConfig& store) {
  return store.has_quantized() &&
         (store.quantized().quantizer() == "int8" || store.quantized().quantizer() == "int4");
}

// Changes the integer quantizer options of every quantized store of `cache`.
absl::Status EditIntegerOptions(config::CacheConfig& cache,
                                const std::function<void(quant::IntegerQuantizerOptions&)>& edit) {
  for (config::StoreConfig* store : {cache.mutable_keys(), cache.mutable_values()}) {
    if (!UsesIntegerQuantizer(*store)) continue;
    quant::IntegerQuantizerOptions options;
    if (store->quantized().has_options() && !store->quantized().options().UnpackTo(&options)) {
      return absl::InvalidArgumentError("quantizer options are not IntegerQuantizerOptions");
    }
    edit(options);
    store->mutable_quantized()->mutable_options()->PackFrom(options);
  }
  return absl::OkStatus();
}

// 32 makes both stores dense fp32; 8 or 4 picks that integer quantizer, keeping the
// store's options and residual when it already had an integer quantizer.
absl::Status SetBits(config::CacheConfig& cache, int bits) {
  for (config::StoreConfig* store : {cache.mutable_keys(), cache.mutable_values()}) {
    if (bits == 32) {
      store->mutable_dense()->set_dtype(config::FLOAT32);
    } else {
      store->mutable_quantized()->set_quantizer(absl::StrCat("int", bits));
    }
  }
  return absl::OkStatus();
}

// Appends the axis of a sweep field's `values` to `axes`, unless the field is empty:
// each value must pass `check` (an error naming the field), is named by `name` and
// changes a cache by `apply`.
template <typename Values, typename Check, typename Name, typename Apply>
absl::Status AddAxis(const Values& values, Check check, Name name, Apply apply,
                     std::vector<Axis>& axes) {
  if (values.empty()) return absl::OkStatus();
  Axis axis;
  for (const auto& value : values) {
    KVLAB_RETURN_IF_ERROR(check(value));
    axis.names.push_back(name(value));
    axis.apply.push_back([apply, value](config::CacheConfig& c) { return apply(c, value); });
  }
  axes.push_back(std::move(axis));
  return absl::OkStatus();
}

// A check for fields whose every value is valid.
constexpr auto kAnyValue = [](const auto&) { return absl::OkStatus(); };

// The sweep's axes in field order, each value checked.
absl::StatusOr<std::vector<Axis>> MakeAxes(const config::Sweep& sweep) {
  std::vector<Axis> axes;
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.policies(),
      [](const std::string& policy) {
        return policy.empty() ? absl::InvalidArgumentError("sweeps.policies holds an empty name")
                              : absl::OkStatus();
      },
      [](const std::string& policy) { return policy; },
      [](config::CacheConfig& c, const std::string& policy) {
        if (policy == "none") {
          c.clear_eviction();
        } else {
          c.mutable_eviction()->set_policy(policy);
        }
        return absl::OkStatus();
      },
      axes));
  // An unnamed sweep of one policy is still that policy's: "cake-b128", not "b128".
  if (!sweep.policies().empty() && sweep.name().empty()) axes.back().always_named = true;
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.budgets(),
      [](int64_t budget) {
        return budget < 1 ? absl::InvalidArgumentError(
                                absl::StrFormat("sweeps.budgets must be >= 1, got %d", budget))
                          : absl::OkStatus();
      },
      [](int64_t budget) { return absl::StrCat("b", budget); },
      [](config::CacheConfig& c, int64_t budget) {
        if (c.has_eviction()) c.mutable_eviction()->mutable_budget()->set_tokens(budget);
        return absl::OkStatus();
      },
      axes));
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.bits(),
      [](int bits) {
        return bits != 32 && bits != 8 && bits != 4 && bits != 2
                   ? absl::InvalidArgumentError(
                         absl::StrFormat("sweeps.bits must be 32, 8, 4 or 2, got %d", bits))
                   : absl::OkStatus();
      },
      [](int bits) { return bits == 32 ? std::string("fp32") : absl::StrCat("int", bits); },
      SetBits, axes));
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.group_sizes(),
      [](int group) {
        return group < 0 ? absl::InvalidArgumentError(absl::StrFormat(
                               "sweeps.group_sizes must be >= 0, got %d", group))
                         : absl::OkStatus();
      },
      [](int group) { return group == 0 ? std::string("gall") : absl::StrCat("g", group); },
      [](config::CacheConfig& c, int group) {
        return EditIntegerOptions(
            c, [group](quant::IntegerQuantizerOptions& o) { o.set_group_size(group); });
      },
      axes));
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.residual_tokens(),
      [](int residual) {
        return residual < 0 ? absl::InvalidArgumentError(absl::StrFormat(
                                  "sweeps.residual_tokens must be >= 0, got %d", residual))
                            : absl::OkStatus();
      },
      [](int residual) { return absl::StrCat("r", residual); },
      [](config::CacheConfig& c, int residual) {
        for (config::StoreConfig* store : {c.mutable_keys(), c.mutable_values()}) {
          if (store->has_quantized()) store->mutable_quantized()->set_residual_tokens(residual);
        }
        return absl::OkStatus();
      },
      axes));
  KVLAB_RETURN_IF_ERROR(AddAxis(
      sweep.position_modes(), kAnyValue,
      [](int mode) {
        return std::string(mode == config::POSITION_CACHE_SLOT ? "slot" : "original");
      },
      [](config::CacheConfig& c, int mode) {
        c.set_position_mode(static_cast<config::PositionMode>(mode));
        return absl::OkStatus();
      },
      axes));
  if (axes.empty()) return absl::InvalidArgumentError("a sweep needs at least one axis");
  return axes;
}

// A product of a few long axes grows beyond any runnable experiment (and memory)
// before a single cache is built: refuse it up front.
absl::Status CheckCombinations(const std::vector<Axis>& axes) {
  size_t combinations = 1;
  for (const Axis& axis : axes) {
    combinations *= axis.names.size();
    if (combinations > kMaxSweepCaches) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the sweep's axes combine into more than %d caches", kMaxSweepCaches));
    }
  }
  return absl::OkStatus();
}

// One cache per combination of the axes' values, the last axis varying fastest, each
// named after the sweep and the axes with more than one value (and the policy of an
// unnamed sweep).
absl::StatusOr<std::vector<config::CacheConfig>> CombineAxes(const config::Sweep& sweep,
                                                             const std::vector<Axis>& axes) {
  std::vector<config::CacheConfig> caches;
  std::vector<size_t> index(axes.size(), 0);
  while (true) {
    config::CacheConfig cache = sweep.base();
    std::vector<std::string> parts;
    if (!sweep.name().empty()) parts.push_back(sweep.name());
    for (size_t a = 0; a < axes.size(); ++a) {
      KVLAB_RETURN_IF_ERROR(axes[a].apply[index[a]](cache));
      if (axes[a].names.size() > 1 || axes[a].always_named) {
        parts.push_back(axes[a].names[index[a]]);
      }
    }
    if (parts.empty()) parts.push_back(axes[0].names[0]);
    cache.set_name(absl::StrJoin(parts, "-"));
    caches.push_back(std::move(cache));
    // Next combination: the last axis varies fastest.
    size_t a = axes.size();
    while (a > 0 && ++index[a - 1] == axes[a - 1].names.size()) index[--a] = 0;
    if (a == 0) break;
  }
  return caches;
}

}  // namespace

absl::StatusOr<std::vector<config::CacheConfig>> ExpandSweep(const config::Sweep& sweep) {
  KVLAB_ASSIGN_OR_RETURN(const std::vector<Axis> axes, MakeAxes(sweep));
  KVLAB_RETURN_IF_ERROR(CheckCombinations(axes));
  return CombineAxes(sweep, axes);
}

}  // namespace kvlab::experiments

#include "experiments/sweep.h"

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "quant/integer.pb.h"

namespace kvlab::experiments {

namespace {

// One axis: its values' name components and how each changes a cache.
struct Axis {
  std::vector<std::string> names;
  std::vector<std::function<absl::Status(config::CacheConfig&)>> apply;
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

}  // namespace

absl::StatusOr<std::vector<config::CacheConfig>> ExpandSweep(const config::Sweep& sweep) {
  std::vector<Axis> axes;
  if (!sweep.policies().empty()) {
    Axis axis;
    for (const std::string& policy : sweep.policies()) {
      if (policy.empty()) return absl::InvalidArgumentError("sweeps.policies holds an empty name");
      axis.names.push_back(policy);
      axis.apply.push_back([policy](config::CacheConfig& c) {
        if (policy == "none") {
          c.clear_eviction();
        } else {
          c.mutable_eviction()->set_policy(policy);
        }
        return absl::OkStatus();
      });
    }
    axes.push_back(std::move(axis));
  }
  if (!sweep.budgets().empty()) {
    Axis axis;
    for (int64_t budget : sweep.budgets()) {
      if (budget < 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("sweeps.budgets must be >= 1, got %d", budget));
      }
      axis.names.push_back(absl::StrCat("b", budget));
      axis.apply.push_back([budget](config::CacheConfig& c) {
        if (c.has_eviction()) c.mutable_eviction()->mutable_budget()->set_tokens(budget);
        return absl::OkStatus();
      });
    }
    axes.push_back(std::move(axis));
  }
  if (!sweep.bits().empty()) {
    Axis axis;
    for (int bits : sweep.bits()) {
      if (bits != 32 && bits != 8 && bits != 4) {
        return absl::InvalidArgumentError(
            absl::StrFormat("sweeps.bits must be 32, 8 or 4, got %d", bits));
      }
      axis.names.push_back(bits == 32 ? "fp32" : absl::StrCat("int", bits));
      axis.apply.push_back([bits](config::CacheConfig& c) { return SetBits(c, bits); });
    }
    axes.push_back(std::move(axis));
  }
  if (!sweep.group_sizes().empty()) {
    Axis axis;
    for (int group : sweep.group_sizes()) {
      if (group < 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("sweeps.group_sizes must be >= 0, got %d", group));
      }
      axis.names.push_back(group == 0 ? "gall" : absl::StrCat("g", group));
      axis.apply.push_back([group](config::CacheConfig& c) {
        return EditIntegerOptions(c, [group](quant::IntegerQuantizerOptions& o) {
          o.set_group_size(group);
        });
      });
    }
    axes.push_back(std::move(axis));
  }
  if (!sweep.residual_tokens().empty()) {
    Axis axis;
    for (int residual : sweep.residual_tokens()) {
      if (residual < 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("sweeps.residual_tokens must be >= 0, got %d", residual));
      }
      axis.names.push_back(absl::StrCat("r", residual));
      axis.apply.push_back([residual](config::CacheConfig& c) {
        for (config::StoreConfig* store : {c.mutable_keys(), c.mutable_values()}) {
          if (store->has_quantized()) store->mutable_quantized()->set_residual_tokens(residual);
        }
        return absl::OkStatus();
      });
    }
    axes.push_back(std::move(axis));
  }
  if (!sweep.position_modes().empty()) {
    Axis axis;
    for (int mode : sweep.position_modes()) {
      axis.names.push_back(mode == config::POSITION_CACHE_SLOT ? "slot" : "original");
      axis.apply.push_back([mode](config::CacheConfig& c) {
        c.set_position_mode(static_cast<config::PositionMode>(mode));
        return absl::OkStatus();
      });
    }
    axes.push_back(std::move(axis));
  }
  if (axes.empty()) return absl::InvalidArgumentError("a sweep needs at least one axis");
  // A product of a few long axes grows beyond any runnable experiment (and memory)
  // before a single cache is built: refuse it up front.
  size_t combinations = 1;
  for (const Axis& axis : axes) {
    combinations *= axis.names.size();
    if (combinations > kMaxSweepCaches) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the sweep's axes combine into more than %d caches", kMaxSweepCaches));
    }
  }

  std::vector<config::CacheConfig> caches;
  std::vector<size_t> index(axes.size(), 0);
  while (true) {
    config::CacheConfig cache = sweep.base();
    std::vector<std::string> parts;
    if (!sweep.name().empty()) parts.push_back(sweep.name());
    for (size_t a = 0; a < axes.size(); ++a) {
      if (absl::Status s = axes[a].apply[index[a]](cache); !s.ok()) return s;
      if (axes[a].names.size() > 1) parts.push_back(axes[a].names[index[a]]);
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

}  // namespace kvlab::experiments

#include "experiments/protocols/protocol.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "core/cache_builder.h"
#include "google/protobuf/descriptor.h"

namespace kvlab::experiments {

namespace {

const google::protobuf::OneofDescriptor& ProtocolOneof() {
  return *config::Experiment::descriptor()->FindOneofByName("protocol");
}

// The oneof field of `name`, or null.
const google::protobuf::FieldDescriptor* ProtocolField(const std::string& name) {
  const google::protobuf::OneofDescriptor& oneof = ProtocolOneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    if (oneof.field(i)->name() == name) return oneof.field(i);
  }
  return nullptr;
}

[[noreturn]] void Abort(const std::string& message) {
  std::fprintf(stderr, "kvlab: %s\n", message.c_str());
  std::abort();
}

}  // namespace

absl::Status Protocol::ValidateCache(const config::Experiment&, int) const {
  return absl::OkStatus();
}

config::BosMode Protocol::Bos(const config::Experiment&) const { return config::BOS_AUTO; }

EvictionSchedule Protocol::Schedule(const config::Experiment&) const {
  return EvictionSchedule::kWheneverOverBudget;
}

void Protocol::AddToFingerprint(const config::Experiment& e,
                                config::Experiment& fingerprint) const {
  // The message in its own oneof field, as it serializes in the experiment.
  const google::protobuf::FieldDescriptor* field = ProtocolField(Name());
  const google::protobuf::Reflection& reflection = *config::Experiment::GetReflection();
  reflection.MutableMessage(&fingerprint, field)->CopyFrom(reflection.GetMessage(e, field));
}

PluginRegistry<Protocol>& ProtocolRegistry() {
  // Never destroyed: protocols register from static initialisers in any order.
  static auto* registry = new PluginRegistry<Protocol>("protocol");
  return *registry;
}

bool RegisterProtocol(const std::string& name, std::function<std::unique_ptr<Protocol>()> make) {
  const google::protobuf::FieldDescriptor* field = ProtocolField(name);
  if (field == nullptr || field->message_type() == nullptr) {
    Abort(absl::StrFormat(
        "protocol '%s' is registered, but kvlab.config.Experiment's oneof protocol has no "
        "message field '%s' (experiments/experiment.proto)",
        name, name));
  }
  if (const std::string made = make()->Name(); made != name) {
    Abort(absl::StrFormat("protocol registered as '%s' names itself '%s'", name, made));
  }
  return ProtocolRegistry().Register(
      name, field->message_type()->full_name(),
      [make](const google::protobuf::Any&) -> absl::StatusOr<std::unique_ptr<Protocol>> {
        return make();
      });
}

std::string ProtocolName(const config::Experiment& e) {
  const google::protobuf::FieldDescriptor* field =
      config::Experiment::GetReflection()->GetOneofFieldDescriptor(e, &ProtocolOneof());
  return field == nullptr ? "none" : field->name();
}

std::vector<std::string> ProtocolNames(const std::function<bool(const Protocol&)>& keep) {
  std::vector<std::string> names;
  const google::protobuf::OneofDescriptor& oneof = ProtocolOneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    const std::string& name = oneof.field(i)->name();
    if (!ProtocolRegistry().Contains(name)) continue;
    if (keep != nullptr) {
      absl::StatusOr<std::unique_ptr<Protocol>> protocol =
          ProtocolRegistry().Create(name, google::protobuf::Any());
      if (!protocol.ok() || !keep(**protocol)) continue;
    }
    names.push_back(name);
  }
  return names;
}

absl::StatusOr<int64_t> MostTokensHeld(const Protocol& protocol, const config::Experiment& e,
                                       const config::CacheConfig& c, int64_t window_tokens,
                                       int num_layers, int64_t reference_tokens) {
  const int64_t step = protocol.TokensPerStep(e);
  if (!c.has_eviction() || step <= 0) return window_tokens;
  KVLAB_ASSIGN_OR_RETURN(const std::vector<int64_t> budgets,
                         EvictionLayerBudgets(c.eviction(), num_layers, reference_tokens));
  if (budgets.empty()) return window_tokens;
  return std::min(window_tokens, *std::max_element(budgets.begin(), budgets.end()) + step);
}

std::string JoinNames(const std::vector<std::string>& names, const std::string& conjunction) {
  if (names.empty()) return "(none)";
  if (names.size() == 1) return names[0];
  return absl::StrCat(
      absl::StrJoin(names.begin(), names.end() - 1, ", "), " ", conjunction, " ", names.back());
}

absl::StatusOr<std::unique_ptr<Protocol>> FindProtocol(const config::Experiment& e) {
  const std::string name = ProtocolName(e);
  if (name == "none") {
    return absl::InvalidArgumentError(
        absl::StrFormat("a protocol is required: %s", JoinNames(ProtocolNames(), "or")));
  }
  return ProtocolRegistry().Create(name, google::protobuf::Any());
}

eval::ScoringOptions ScoringFor(const config::Experiment& e, const model::DecoderModel& model) {
  eval::ScoringOptions scoring;
  if (e.compare_to_dense()) scoring.reference = [&model] { return model.NewDenseCache(); };
  scoring.keep_token_nlls = e.keep_token_nlls();
  return scoring;
}

std::vector<ProtocolOutcome> PerplexityOutcomes(std::vector<eval::PerplexityResult> results,
                                               int32_t bucket_size) {
  std::vector<ProtocolOutcome> outcomes;
  for (eval::PerplexityResult& result : results) {
    outcomes.push_back({std::move(result), {}, bucket_size});
  }
  return outcomes;
}

}  // namespace kvlab::experiments

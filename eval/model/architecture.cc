#include "eval/model/architecture.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace kvlab::model {

namespace {

[[noreturn]] void Abort(const std::string& message) {
  std::fprintf(stderr, "kvlab: %s\n", message.c_str());
  std::abort();
}

// config.json's model_type -> the architecture's name, to refuse a second claim.
std::map<std::string, std::string>& ModelTypes() {
  static auto* types = new std::map<std::string, std::string>();
  return *types;
}

std::unique_ptr<Architecture> Make(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Architecture>> made =
      ArchitectureRegistry().Create(name, google::protobuf::Any());
  return made.ok() ? *std::move(made) : nullptr;
}

// "llama (LlamaForCausalLM), qwen2 (Qwen2ForCausalLM)": each model_type and class name.
std::string HfNames() {
  std::vector<std::string> names;
  for (const std::string& name : ArchitectureNames()) {
    const std::unique_ptr<Architecture> a = Make(name);
    names.push_back(absl::StrFormat("%s (%s)", a->HfModelType(), a->HfClassName()));
  }
  return names.empty() ? "(none)" : absl::StrJoin(names, ", ");
}

}  // namespace

PluginRegistry<Architecture>& ArchitectureRegistry() {
  // Never destroyed: architectures register from static initialisers in any order.
  static auto* registry = new PluginRegistry<Architecture>("architecture");
  return *registry;
}

bool RegisterArchitecture(const std::string& name,
                          std::function<std::unique_ptr<Architecture>()> make) {
  const std::unique_ptr<Architecture> made = make();
  if (made->Name() != name) {
    Abort(absl::StrFormat("architecture registered as '%s' names itself '%s'", name,
                          made->Name()));
  }
  if (const auto [it, added] = ModelTypes().emplace(made->HfModelType(), name); !added) {
    Abort(absl::StrFormat("architectures '%s' and '%s' both claim model_type '%s'", it->second,
                          name, made->HfModelType()));
  }
  return ArchitectureRegistry().Register(
      name, "",
      [make](const google::protobuf::Any&) -> absl::StatusOr<std::unique_ptr<Architecture>> {
        return make();
      });
}

std::vector<std::string> ArchitectureNames() { return ArchitectureRegistry().Names(); }

absl::StatusOr<std::unique_ptr<Architecture>> GgufArchitecture(const gguf::GgufFile& file) {
  KVLAB_ASSIGN_OR_RETURN(const std::string name, file.GetString("general.architecture"));
  if (!ArchitectureRegistry().Contains(name)) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: general.architecture is '%s'; kvlab runs %s", file.path(), name,
                        absl::StrJoin(ArchitectureNames(), ", ")));
  }
  return Make(name);
}

absl::StatusOr<std::unique_ptr<Architecture>> HfArchitecture(const HfConfig& config) {
  if (const nlohmann::json* type = config.Find("model_type"); type != nullptr) {
    if (!type->is_string()) return config.FieldError("model_type", "must be a string");
    for (const std::string& name : ArchitectureNames()) {
      std::unique_ptr<Architecture> a = Make(name);
      if (*type == a->HfModelType()) return a;
    }
    return absl::UnimplementedError(
        absl::StrFormat("%s: model_type '%s' is not supported; kvlab runs %s", config.path(),
                        type->get<std::string>(), HfNames()));
  }
  const nlohmann::json* classes = config.Find("architectures");
  if (classes == nullptr || !classes->is_array() || classes->empty() ||
      !(*classes)[0].is_string()) {
    return config.FieldError("model_type",
                             "is missing (and no \"architectures\" list names the model)");
  }
  for (const std::string& name : ArchitectureNames()) {
    std::unique_ptr<Architecture> a = Make(name);
    if ((*classes)[0] == a->HfClassName()) return a;
  }
  return absl::UnimplementedError(
      absl::StrFormat("%s: architectures[0] '%s' is not supported; kvlab runs %s", config.path(),
                      (*classes)[0].get<std::string>(), HfNames()));
}

absl::StatusOr<std::string> HfArchitectureName(const HfConfig& config) {
  KVLAB_ASSIGN_OR_RETURN(const std::unique_ptr<Architecture> a, HfArchitecture(config));
  return a->Name();
}

}  // namespace kvlab::model

// PluginRegistry: name -> factory maps through which plugins (eviction policies,
// quantizers) register themselves and experiments create them by name.
//
// A plugin registers from its own .cc file with one line, naming its options message:
//
//   KVLAB_REGISTER_EVICTION_POLICY(h2o, policies::H2oOptions, MakeH2oPolicy);
//
// where MakeH2oPolicy(const H2oOptions&) returns
// absl::StatusOr<std::unique_ptr<EvictionPolicy>>. The library holding that line must be
// `alwayslink = True`, or the linker drops it. Registration runs before main(); the map
// is a function-local static, so there is no initialisation-order problem, and two
// plugins claiming the same name abort at start-up.
#ifndef KVLAB_CORE_REGISTRY_H_
#define KVLAB_CORE_REGISTRY_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"

namespace kvlab {

template <typename Interface>
class PluginRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Interface>>(
      const google::protobuf::Any& options)>;

  // `kind` names what the registry holds in error messages ("eviction policy").
  explicit PluginRegistry(const char* kind) : kind_(kind) {}

  // Registers `factory` under `name`, whose options message is `options_type`.
  // Returns true so that it can initialise a static; aborts on a duplicate name.
  bool Register(const std::string& name, const std::string& options_type, Factory factory) {
    if (!entries_.emplace(name, Entry{options_type, std::move(factory)}).second) {
      std::fprintf(stderr, "kvlab: two %ss are registered as '%s'\n", kind_, name.c_str());
      std::abort();
    }
    return true;
  }

  // Registers a factory taking the typed options message `Options`.
  template <typename Options>
  bool RegisterTyped(
      const std::string& name,
      std::function<absl::StatusOr<std::unique_ptr<Interface>>(const Options&)> make) {
    const std::string type = Options::descriptor()->full_name();
    const std::string kind = kind_;
    return Register(name, type,
                    [make, name, type, kind](const google::protobuf::Any& any)
                        -> absl::StatusOr<std::unique_ptr<Interface>> {
                      Options options;
                      if (!any.type_url().empty()) {
                        if (!any.Is<Options>()) {
                          return absl::InvalidArgumentError(absl::StrFormat(
                              "options of %s '%s' must be %s, got %s", kind, name, type,
                              any.type_url()));
                        }
                        if (!any.UnpackTo(&options)) {
                          return absl::InvalidArgumentError(absl::StrFormat(
                              "options of %s '%s' do not parse as %s", kind, name, type));
                        }
                      }
                      return make(options);
                    });
  }

  // Creates the plugin `name`. NotFound lists the registered names.
  absl::StatusOr<std::unique_ptr<Interface>> Create(absl::string_view name,
                                                    const google::protobuf::Any& options) const {
    auto it = entries_.find(std::string(name));
    if (it == entries_.end()) {
      return absl::NotFoundError(absl::StrFormat("unknown %s '%s'; registered: %s", kind_, name,
                                                 Names().empty() ? "(none)"
                                                                 : absl::StrJoin(Names(), ", ")));
    }
    return it->second.factory(options);
  }

  bool Contains(absl::string_view name) const { return entries_.count(std::string(name)) > 0; }

  // Registered names, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, entry] : entries_) names.push_back(name);
    return names;
  }

  // The full name of the options message of `name`, or "" if unknown.
  std::string OptionsType(absl::string_view name) const {
    auto it = entries_.find(std::string(name));
    return it == entries_.end() ? "" : it->second.options_type;
  }

 private:
  struct Entry {
    std::string options_type;
    Factory factory;
  };
  const char* kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_REGISTRY_H_

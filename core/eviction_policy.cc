#include "core/eviction_policy.h"

namespace kvlab {

PluginRegistry<EvictionPolicy>& EvictionPolicyRegistry() {
  // Never destroyed: plugins register from static initialisers in any order.
  static auto* registry = new PluginRegistry<EvictionPolicy>("eviction policy");
  return *registry;
}

}  // namespace kvlab

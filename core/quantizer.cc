#include "core/quantizer.h"

namespace kvlab {

PluginRegistry<Quantizer>& QuantizerRegistry() {
  // Never destroyed: plugins register from static initialisers in any order.
  static auto* registry = new PluginRegistry<Quantizer>("quantizer");
  return *registry;
}

}  // namespace kvlab

// Quantizer: a plugin that stores one layer's keys or values in fewer bits.
//
// A quantizer makes TensorStores; BaseKvCache attends through them, so attention reads
// only what the quantized store holds (its codes, scales and full-precision residual
// tokens). Keys and values choose their quantizers separately in a CacheConfig, and
// any eviction policy composes with any quantizer (EvictingKvCache wraps the cache).
// Each quantizer registers from its own file with one line:
//
//   KVLAB_REGISTER_QUANTIZER(int4, quant::IntegerQuantizerOptions, MakeInt4Quantizer);
#ifndef KVLAB_CORE_QUANTIZER_H_
#define KVLAB_CORE_QUANTIZER_H_

#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/registry.h"
#include "core/tensor_store.h"

namespace kvlab {

// What a store holds: one layer's keys or values.
struct StoreSpec {
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  // The most recent tokens kept in full precision (fp32); >= 0.
  int64_t residual_tokens = 0;
  c10::Device device = c10::kCPU;
};

class Quantizer {
 public:
  virtual ~Quantizer() = default;
  // The registered name, for messages (result records describe a store from its
  // config: cache_builder.h's DescribeStore).
  virtual std::string Name() const = 0;
  // Makes an empty store. Fails with InvalidArgument if the options do not fit the
  // shape (a group size that does not divide head_dim, say).
  virtual absl::StatusOr<std::unique_ptr<TensorStore>> MakeStore(const StoreSpec& spec) const = 0;
};

PluginRegistry<Quantizer>& QuantizerRegistry();

}  // namespace kvlab

// Registers `factory` (absl::StatusOr<std::unique_ptr<Quantizer>>(const Options&)) as
// the quantizer `name` (an identifier, used as the string name).
#define KVLAB_REGISTER_QUANTIZER(name, Options, factory)           \
  static const bool kvlab_quantizer_registered_##name =             \
      ::kvlab::QuantizerRegistry().RegisterTyped<Options>(#name, factory)

#endif  // KVLAB_CORE_QUANTIZER_H_

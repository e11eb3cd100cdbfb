// TensorStore: where a cache keeps one of its two tensors (keys or values) for one
// layer, in whatever format the store uses.
//
// Attention reaches the stored tokens through the two products below, so a quantized
// store can compute them from its codes without materialising a dequantized copy; a
// store may also expose its storage to the one-pass decode-attention kernel
// (DecodeRuns). Dense stores are the base; quantizers provide their own stores
// (quant/). Attention with read-time rotation materialises the keys instead.
//
// Shapes: tokens arrive as [kv_heads, n, head_dim] fp32 on the store's device; the store
// holds `length()` tokens per KV head, all heads the same count.
#ifndef KVLAB_CORE_TENSOR_STORE_H_
#define KVLAB_CORE_TENSOR_STORE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/decode_attention.h"

namespace kvlab {

class TensorStore {
 public:
  virtual ~TensorStore() = default;

  // Appends `tokens` [kv_heads, n, head_dim] after the held ones. A quantized store
  // refuses NaN or Inf here (InvalidArgument), once per append, so that what it
  // quantizes later (from its residual) is known to be finite.
  virtual absl::Status Append(const at::Tensor& tokens) = 0;

  // queries [kv_heads, m, head_dim] x held^T -> [kv_heads, m, length()] fp32.
  // InvalidArgument for queries of the wrong shape.
  virtual absl::StatusOr<at::Tensor> MultiplyTransposed(const at::Tensor& queries) const = 0;
  // weights [kv_heads, m, length()] x held -> [kv_heads, m, head_dim] fp32.
  // InvalidArgument for weights of the wrong shape.
  virtual absl::StatusOr<at::Tensor> Multiply(const at::Tensor& weights) const = 0;

  // The two products over the held tokens [begin, end) only (0 <= begin <= end <=
  // length()): queries -> [kv_heads, m, end - begin]; weights [kv_heads, m, end - begin]
  // -> [kv_heads, m, head_dim]. For a block of queries that sees no other token, such
  // as a sliding-window layer's. The defaults compute the whole products (cutting the
  // scores, padding the weights with zeros); a store overrides them to skip the rest.
  virtual absl::StatusOr<at::Tensor> MultiplyTransposedRange(const at::Tensor& queries,
                                                             int64_t begin, int64_t end) const;
  virtual absl::StatusOr<at::Tensor> MultiplyRange(const at::Tensor& weights, int64_t begin,
                                                   int64_t end) const;

  // The held tokens as fp32 [kv_heads, length(), head_dim]: a temporary, for paths that
  // must transform tokens before use (rotation at read time) and for tests.
  virtual at::Tensor Materialize() const = 0;

  // The held tokens as the decode-attention kernel reads them (kernels/
  // decode_attention.h): runs in token order, e.g. quantized tokens then a
  // full-precision residual. The views borrow this store's buffers and are valid until
  // the next Append or Retain. nullopt: this store has no such form, and attention uses
  // the two products. Default nullopt.
  virtual std::optional<std::vector<kernels::CacheRowsView>> DecodeRuns() const {
    return std::nullopt;
  }

  // Keeps the tokens at `keep` ([kv_heads, m] int64, ascending per row), in that order.
  virtual absl::Status Retain(const at::Tensor& keep) = 0;

  virtual int64_t length() const = 0;
  // Bytes of everything held for the live tokens (payload, scales, zero points,
  // residual tokens), and bytes reserved including unused capacity.
  virtual int64_t held_bytes() const = 0;
  virtual int64_t allocated_bytes() const = 0;
  // Bookkeeping beside the data (per-token block indices, say). Default none.
  virtual int64_t metadata_bytes() const { return 0; }
  // Short description for messages and tests, e.g. "fp32" or
  // "int4-asym g32 per-channel Half-scales r128" (result records describe a store from
  // its config: cache_builder.h's DescribeStore).
  virtual std::string Describe() const = 0;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_TENSOR_STORE_H_

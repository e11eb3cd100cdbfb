// TokenBuffer: a tensor whose dimension 1 is a token axis that grows and shrinks.
//
// Shape [heads, capacity, ...trailing]; the first length() tokens are live. Append()
// doubles the capacity when full, so appending a token is amortised O(1); Retain()
// gathers kept tokens to the front and halves the allocation once it is mostly empty,
// so evicted tokens' memory is reused or returned.
#ifndef KVLAB_CORE_TOKEN_BUFFER_H_
#define KVLAB_CORE_TOKEN_BUFFER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace kvlab {

class TokenBuffer {
 public:
  // `trailing` are the per-token dimensions after the token axis (may be empty).
  TokenBuffer(int64_t heads, std::vector<int64_t> trailing, at::TensorOptions options);
  // A copy would share the storage (at::Tensor is a handle) and see the other's appends
  // and compactions under its own length: neither copied nor moved.
  TokenBuffer(const TokenBuffer&) = delete;
  TokenBuffer& operator=(const TokenBuffer&) = delete;

  // Appends x [heads, n, ...trailing] (converted to the buffer's dtype).
  absl::Status Append(const at::Tensor& x);
  // Keeps tokens `keep` [heads, m] (int64 indices into the live tokens, ascending per
  // head), compacting them in place to the front.
  absl::Status Retain(const at::Tensor& keep);
  // The live tokens, a view [heads, length, ...trailing] into the buffer.
  at::Tensor View() const;

  int64_t length() const { return length_; }
  int64_t capacity() const { return buffer_.defined() ? buffer_.size(1) : 0; }
  int64_t bytes_per_token() const { return bytes_per_token_; }
  int64_t held_bytes() const { return length_ * bytes_per_token_; }
  int64_t allocated_bytes() const { return capacity() * bytes_per_token_; }

  // The smallest allocation, in tokens.
  static constexpr int64_t kMinCapacity = 64;

 private:
  void Reallocate(int64_t capacity);

  int64_t heads_;
  std::vector<int64_t> trailing_;
  at::TensorOptions options_;
  int64_t bytes_per_token_;
  at::Tensor buffer_;
  int64_t length_ = 0;
};

}  // namespace kvlab

#endif  // KVLAB_CORE_TOKEN_BUFFER_H_

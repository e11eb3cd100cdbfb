// Straightforward, loop-by-loop references that tests compare the fast paths against.
#ifndef KVLAB_CORE_REFERENCE_ATTENTION_H_
#define KVLAB_CORE_REFERENCE_ATTENTION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace kvlab::testing {

// RoPE by its definition: pair p of a head at position t turns by
// t * base^(-2p / rotary_dim). Interleaved pairs are (2p, 2p+1), half pairs
// (p, p + rotary_dim/2). x [heads, n, d] fp32, positions [n] int64.
at::Tensor ReferenceRope(const at::Tensor& x, const at::Tensor& positions, double base,
                         int64_t rotary_dim, bool interleaved);

// Causal softmax attention computed one (head, query) at a time in double precision.
// q [q_heads, n, d], k and v [kv_heads, t, d]; query i sits at slot t - n + i and sees
// slots 0..t-n+i. Query head h reads KV head h / (q_heads / kv_heads). Returns
// [q_heads, n, d] fp32. If `probs` is given it receives [q_heads, n, t].
at::Tensor ReferenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              at::Tensor* probs = nullptr);

}  // namespace kvlab::testing

#endif  // KVLAB_CORE_REFERENCE_ATTENTION_H_

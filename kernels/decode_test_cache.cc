#include "kernels/decode_test_cache.h"

#include "kernels/integer_format.h"

namespace kvlab::kernels::testing {

namespace {

constexpr int64_t kBlockTokens = 16;

// x [heads, n, ...] in the front of a buffer 37 tokens longer: strided like a view.
at::Tensor InsideLarger(const at::Tensor& x) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape[1] = x.size(1) + 37;
  at::Tensor buffer = at::zeros(shape, x.options());
  buffer.narrow(1, 0, x.size(1)).copy_(x);
  return buffer.narrow(1, 0, x.size(1));
}

struct Quantized {
  CacheRowsView view;
  at::Tensor dequantized;
};

Quantized PerToken(const kernels::IntegerFormat& format, const at::Tensor& x, int64_t group,
                   const c10::Device& device) {
  const int64_t dim = x.size(2);
  kernels::QuantizedGroups q = *kernels::QuantizeGroups(format, x.unflatten(-1, {dim / group, group}));
  TokenGroupsView view{format, dim, group,
                       InsideLarger(kernels::PackLevels(format, q.levels.flatten(-2)).to(device)),
                       InsideLarger(q.scale.squeeze(-1).to(device)),
                       format.symmetric ? at::Tensor() : InsideLarger(q.zero.squeeze(-1).to(device))};
  return {view, kernels::DequantizeLevels(format, q.levels, q.scale, q.zero).flatten(-2)};
}

// Per-channel blocks of kBlockTokens tokens, stored in a shuffled block order.
Quantized PerChannel(const kernels::IntegerFormat& format, const at::Tensor& x,
                     const c10::Device& device) {
  const int64_t heads = x.size(0), tokens = x.size(1), dim = x.size(2);
  const int64_t blocks = (tokens + kBlockTokens - 1) / kBlockTokens;
  std::vector<at::Tensor> levels, scales, zeros, values;
  for (int64_t b = 0; b < blocks; ++b) {
    const at::Tensor block =
        x.narrow(1, b * kBlockTokens, std::min(kBlockTokens, tokens - b * kBlockTokens));
    kernels::QuantizedGroups q = *kernels::QuantizeGroups(format, block.transpose(1, 2));
    levels.push_back(q.levels.transpose(1, 2));
    scales.push_back(q.scale.transpose(1, 2));
    if (!format.symmetric) zeros.push_back(q.zero.transpose(1, 2));
    values.push_back(kernels::DequantizeLevels(format, q.levels, q.scale, q.zero).transpose(1, 2));
  }
  const at::Tensor order = at::randperm(blocks, at::kLong);  // storage slot of block b
  const at::Tensor slots = at::argsort(order);
  const at::Tensor block_of =
      order.repeat_interleave(kBlockTokens).narrow(0, 0, tokens).repeat({heads, 1});
  ChannelBlocksView view{
      format, dim,
      InsideLarger(kernels::PackLevels(format, at::cat(levels, 1).contiguous()).to(device)),
      InsideLarger(block_of.to(device)), InsideLarger(at::cat(scales, 1).index_select(1, slots).to(device)),
      format.symmetric ? at::Tensor()
                       : InsideLarger(at::cat(zeros, 1).index_select(1, slots).to(device))};
  return {view, at::cat(values, 1)};
}

Quantized Dense(const at::Tensor& x, at::ScalarType type, const c10::Device& device) {
  const at::Tensor stored = x.to(type);
  return {DenseRowsView{InsideLarger(stored.to(device))}, stored.to(at::kFloat)};
}

}  // namespace

std::string KindName(CacheKind kind) {
  switch (kind) {
    case CacheKind::kInt8Tokens: return "int8 g-fp16";
    case CacheKind::kInt4Tokens: return "int4 g-bf16";
    case CacheKind::kInt4SymTokens: return "int4-sym g-fp32";
    case CacheKind::kInt4ChannelKeys: return "int4 kivi";
    case CacheKind::kFloat32: return "fp32";
    case CacheKind::kFloat16: return "fp16";
    case CacheKind::kBFloat16: return "bf16";
  }
  return "?";
}

TestCache MakeTestCache(CacheKind kind, int64_t heads, int64_t tokens, int64_t dim,
                        int64_t group, int64_t residual, const c10::Device& device) {
  const at::Tensor k = at::randn({heads, tokens, dim}) * 2.0 + 0.5;
  const at::Tensor v = at::randn({heads, tokens, dim});
  Quantized keys, values;
  switch (kind) {
    case CacheKind::kInt8Tokens: {
      const kernels::IntegerFormat f{8, false, at::kHalf};
      keys = PerToken(f, k, group, device);
      values = PerToken(f, v, group, device);
      break;
    }
    case CacheKind::kInt4Tokens: {
      const kernels::IntegerFormat f{4, false, at::kBFloat16};
      keys = PerToken(f, k, group, device);
      values = PerToken(f, v, group, device);
      break;
    }
    case CacheKind::kInt4SymTokens: {
      const kernels::IntegerFormat f{4, true, at::kFloat};
      keys = PerToken(f, k, group, device);
      values = PerToken(f, v, group, device);
      break;
    }
    case CacheKind::kInt4ChannelKeys: {
      const kernels::IntegerFormat f{4, false, at::kHalf};
      keys = PerChannel(f, k, device);
      values = PerToken(f, v, group, device);
      break;
    }
    case CacheKind::kFloat32:
    case CacheKind::kFloat16:
    case CacheKind::kBFloat16: {
      const at::ScalarType type = kind == CacheKind::kFloat32   ? at::kFloat
                                  : kind == CacheKind::kFloat16 ? at::kHalf
                                                                : at::kBFloat16;
      keys = Dense(k, type, device);
      values = Dense(v, type, device);
      break;
    }
  }
  TestCache cache;
  cache.segments.push_back({keys.view, values.view});
  cache.keys = keys.dequantized;
  cache.values = values.dequantized;
  if (residual > 0) {
    const at::Tensor rk = at::randn({heads, residual, dim}), rv = at::randn({heads, residual, dim});
    cache.segments.push_back({DenseRowsView{InsideLarger(rk.to(device))},
                              DenseRowsView{InsideLarger(rv.to(device))}});
    cache.keys = at::cat({cache.keys, rk}, 1);
    cache.values = at::cat({cache.values, rv}, 1);
  }
  return cache;
}

ReferenceAttention Reference(const at::Tensor& queries, const TestCache& cache, double scale) {
  const at::Tensor q = queries.cpu().to(at::kDouble);
  const at::Tensor probs =
      at::softmax(at::matmul(q, cache.keys.to(at::kDouble).transpose(1, 2)) * scale, -1);
  return {at::matmul(probs, cache.values.to(at::kDouble)).to(at::kFloat),
          probs.mean(1).to(at::kFloat)};
}

}  // namespace kvlab::kernels::testing

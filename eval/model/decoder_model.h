// DecoderModel: what the perplexity protocols and the experiment runner need of a
// decoder-only language model, whatever its architecture.
//
// Each architecture (LlamaModel, Gemma3Model) implements it in its own files;
// LoadModel() (load_model.h) picks one from a GGUF's general.architecture or a Hugging
// Face directory's config.json.
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, LoadModel(*file, {}));
//   KVLAB_ASSIGN_OR_RETURN(auto cache, model->NewDenseCache());
//   KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden, model->Forward(tokens, 0, {cache.get()}));
//   at::Tensor logits = model->Logits(hidden);
//
// Attention goes through KvCache::Attend() only: a model never holds keys or values.
// Forward() is thread-compatible; the weights are immutable after loading.
#ifndef KVLAB_EVAL_MODEL_DECODER_MODEL_H_
#define KVLAB_EVAL_MODEL_DECODER_MODEL_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/base_kv_cache.h"
#include "core/kv_cache.h"
#include "core/rotary_embedding.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/projection.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

struct LoadOptions {
  c10::Device device = c10::kCPU;
  // Dtype the projection and embedding matrices are kept in: at::kFloat (default),
  // at::kBFloat16 or at::kHalf. Norm weights, the residual stream and everything
  // handed to the caches stay fp32; each matmul rounds its input to this dtype and
  // widens its output back to fp32.
  at::ScalarType weight_dtype = at::kFloat;
  // Keep each GGUF projection and embedding tensor in its own block format, mapped
  // from the file, and multiply it with ggml's CPU kernels (projection.h) instead of
  // dequantizing it to `weight_dtype` (which then applies to nothing). CPU and GGUF only.
  bool native_weights = false;
  // With native weights: pad every product of fewer than 8 rows to 8 with zero rows, so
  // that ggml's K-quant kernels give each row the same output whichever rows share its
  // products (OutputDependsOnRowCount() is then false). For protocols whose caches
  // leave a lockstep batch as they finish; a one-row decode step then costs about 7x.
  bool row_independent_products = false;
};

// The facts about a model that reports and cache builders need.
struct ModelInfo {
  std::string architecture;  // general.architecture
  std::string name;          // general.name, for reports.
  // Layers, heads, head dim, and the sliding window of each layer (empty if none).
  AttentionShape attention;
  int64_t vocab = 0;
  int64_t context_length = 0;  // Positions the model was trained for; 0 if unknown.

  // Elements per token of a cache that holds every layer's keys and values, times
  // `element_bytes`; a sliding-window layer holds fewer tokens, not smaller ones.
  int64_t DenseCacheBytesPerToken(int64_t element_bytes) const {
    return 2 * attention.num_layers * attention.kv_heads * attention.head_dim * element_bytes;
  }
};

class DecoderModel {
 public:
  virtual ~DecoderModel() = default;

  virtual ModelInfo info() const = 0;
  // The rotary embedding of each layer, for the caches built for this model.
  virtual LayerRopes ropes() const = 0;
  virtual c10::Device device() const = 0;
  virtual at::ScalarType weight_dtype() const = 0;
  // Bytes of every weight tensor the model holds (a tied output projection counted once).
  virtual int64_t WeightBytes() const = 0;

  // Fails with InvalidArgument unless `tokens` is int64 with every id in [0, vocab).
  // Reads the ids on the host: a device tensor costs a round trip.
  virtual absl::Status CheckTokens(const at::Tensor& tokens) const = 0;

  // Runs tokens [batch, n] (int64) at positions first_position.. through the model, with
  // caches[b] holding row b's context. Returns the final normalised hidden states
  // [batch, n, hidden] fp32. Tokens on the CPU are checked with CheckTokens(); tokens
  // already on the model's device are not (no host round trip per step): the caller
  // checks them once, before moving them there.
  virtual absl::StatusOr<at::Tensor> Forward(const at::Tensor& tokens, int64_t first_position,
                                             absl::Span<KvCache* const> caches) const = 0;

  // Output projection: hidden [..., hidden] -> logits [..., vocab] fp32.
  virtual at::Tensor Logits(const at::Tensor& hidden) const = 0;

  // Whether a row's output can depend on how many rows share its matrix products, not
  // only on the row itself: with native weights, ggml's K-quant kernels (Q2_K to Q6_K)
  // sum in one order for 1 to 7 rows and in another from 8 rows on. A reference
  // compared with a lockstep batch then runs in the batch's own products
  // (eval/perplexity), so that the comparison measures the caches and not the kernels.
  virtual bool OutputDependsOnRowCount() const = 0;

  // A dense fp32 cache for this model on its device (the baseline; experiments build
  // others from their configs).
  virtual absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCache() const = 0;
};

// Shared by the implementations.

// DecoderModel::OutputDependsOnRowCount() of a model loaded with `options`: native
// weights whose small products are not padded.
inline bool OutputDependsOnRowCount(const LoadOptions& options) {
  return options.native_weights && !options.row_independent_products;
}

// InvalidArgument unless `tokens` is int64 with every id in [0, vocab).
absl::Status CheckTokenIds(const at::Tensor& tokens, int64_t vocab);

// The argument checks of DecoderModel::Forward(): tokens [batch, n] int64, one cache of
// `num_layers` layers per row, tokens on the CPU (then checked against `vocab`) or on
// `device`.
absl::Status CheckForwardArguments(const at::Tensor& tokens, absl::Span<KvCache* const> caches,
                                   int num_layers, int64_t vocab, c10::Device device);

// InvalidArgument or Unavailable unless `options` names an available device and a
// weight dtype the GGUF loader can produce (native weights: the CPU).
absl::Status CheckLoadOptions(const LoadOptions& options);

// A model's weights from `source` (a GGUF file or a Hugging Face checkpoint), loaded
// as `options` asks: matrices in its weight dtype on its device (or natively, in their
// GGUF block formats), vectors (norm weights, biases) in fp32. Errors name the file and
// the tensor.
class ModelWeights {
 public:
  // `source` must outlive this object.
  ModelWeights(const WeightSource& source, const LoadOptions& options)
      : source_(source), options_(options) {}
  absl::StatusOr<at::Tensor> Matrix(const std::string& name, std::vector<int64_t> shape) const;
  // The tensors `parts` (name and [out, in] shape each, all of one `in`) as one
  // projection, their outputs side by side in this order: concatenated into one ATen
  // matrix, or natively each tensor as the file holds it.
  struct Part {
    std::string name;
    std::vector<int64_t> shape;
  };
  absl::StatusOr<Projection> LoadProjection(const std::vector<Part>& parts) const;
  // Norm weights and biases stay fp32: they scale or shift activations and cost nothing.
  absl::StatusOr<at::Tensor> Vector(const std::string& name, int64_t size) const;

 private:
  const WeightSource& source_;
  LoadOptions options_;
};

// x / sqrt(mean(x^2) + eps) * weight over the last axis.
at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Attention of one layer for every row of a batch: row b's queries, keys and values go
// to caches[b]->Attend(layer, ...), each cache holding that row's context alone.
// queries [batch, q_heads, n, d], keys and values [batch, kv_heads, n, d] ->
// [batch, n, q_heads * d] fp32, the heads side by side as the output projection reads
// them.
absl::StatusOr<at::Tensor> AttendPerRow(int layer, const at::Tensor& queries,
                                        const at::Tensor& keys, const at::Tensor& values,
                                        int64_t first_position,
                                        absl::Span<KvCache* const> caches);

// A dense fp32 cache of `shape` (sliding windows included) on `device`.
absl::StatusOr<std::unique_ptr<KvCache>> NewDenseCacheFor(const AttentionShape& shape,
                                                          const LayerRopes& ropes,
                                                          c10::Device device);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_DECODER_MODEL_H_

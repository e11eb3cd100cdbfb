// DecoderSizes: a decoder's sizes, which each model format names its own way (GGUF's
// <arch>.block_count, config.json's num_hidden_layers, ...), and the limits every
// reader applies to them, so that a model file can name only a model kvlab can build.
//
// Each limit is far above any published model (the largest have about 128 layers, a
// hidden size of 16384, 128 query heads of 128 dimensions and a vocabulary of 256k)
// and low enough that no product of sizes the model forms (a projection's elements, a
// cache's bytes per token) overflows int64_t.
#ifndef KVLAB_EVAL_MODEL_DECODER_SIZES_H_
#define KVLAB_EVAL_MODEL_DECODER_SIZES_H_

#include <cstdint>

namespace kvlab::model {

struct DecoderSizes {
  int num_layers = 0;
  int64_t hidden = 0;    // The residual stream's width.
  int64_t ffn = 0;       // The MLP's inner width.
  int64_t q_heads = 0;   // Query heads.
  int64_t kv_heads = 0;  // Key-value heads; q_heads is a multiple of it.
  int64_t head_dim = 0;  // Dimensions per head, keys and values alike.
  int64_t vocab = 0;     // Tokens in the vocabulary.
};

inline constexpr int64_t kMaxLayers = 4096;
inline constexpr int64_t kMaxHidden = int64_t{1} << 20;
inline constexpr int64_t kMaxFfn = int64_t{1} << 22;
inline constexpr int64_t kMaxHeads = int64_t{1} << 14;
inline constexpr int64_t kMaxHeadDim = int64_t{1} << 16;
inline constexpr int64_t kMaxVocab = int64_t{1} << 24;

// Whether every size is > 0 and within its limit, and the query heads a multiple of
// the key-value heads (grouped-query attention shares each key-value head among a
// whole number of query heads).
bool DecoderSizesWithinLimits(int64_t layers, int64_t hidden, int64_t ffn, int64_t q_heads,
                              int64_t kv_heads);

// Whether a head dimension is even (rotary embeddings rotate pairs), > 0 and at most
// kMaxHeadDim.
bool HeadDimWithinLimits(int64_t head_dim);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_DECODER_SIZES_H_

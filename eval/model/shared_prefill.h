// One prefill, many caches: a prompt's dense forward computed once and handed to every
// cache of a lockstep batch, each of which then compresses it as its own prefill would.
//
// Under a compress-once schedule every cache's prefill is the same dense computation:
// the prompt's queries attend the whole prompt, and only what a cache keeps (and how
// it stores it) differs afterwards. PrefillShared() runs the model once over the
// prompt, with one batch row whose attention goes through a dense cache, and gives
// each layer's queries, keys and values (before rotary embedding, as the model hands
// them to a cache) to every target cache's Attend() as well, with
// AttentionInputs::output_wanted false. Each target stores them, gathers the statistics
// its policy asks for from its own attention over them (a window's rows score only the
// window's queries), and evicts as its schedule says; it computes no attention output,
// since the forward continues on the dense one. A target that needs no statistic
// (dense, quantized, a window, key norms) only stores.
//
// What the targets end up holding is therefore exactly what a separate prefill through
// each would leave, for every cache whose prefill attention is dense: the dense cache,
// and an evicting cache over it with EvictionSchedule::kOnceAfterPrefill (its eviction
// follows its prefill's attention). A quantized cache differs by design: its prompt
// attends in full precision and is quantized as it is handed over, as KIVI's code and
// transformers' QuantizedCache prefill a prompt, whereas a separate prefill through it
// would let later layers see the quantization error of earlier ones.
//
//   std::vector<KvCache*> caches = ...;  // Empty, one per configuration.
//   KVLAB_ASSIGN_OR_RETURN(at::Tensor hidden, PrefillShared(model, prompt, caches));
//   // hidden [1, n, hidden]; then decode the batch in lockstep from position n.
#ifndef KVLAB_EVAL_MODEL_SHARED_PREFILL_H_
#define KVLAB_EVAL_MODEL_SHARED_PREFILL_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kv_cache.h"
#include "eval/model/decoder_model.h"

namespace kvlab::model {

// Runs `tokens` ([n] int64, n >= 1) through `model` from position 0 once and hands
// every layer's keys and values to each of `caches` (empty, with the model's layers).
// Returns the dense forward's final hidden states [1, n, hidden] fp32. Errors name the
// failing cache's index.
absl::StatusOr<at::Tensor> PrefillShared(const DecoderModel& model, const at::Tensor& tokens,
                                         absl::Span<KvCache* const> caches);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_SHARED_PREFILL_H_

// What an experiment's protocol is called and what it does with a text: its name in
// result records, the windows prefill_compress and compress_once share, the context a
// fractional eviction budget refers to, and how many predictions it scores.
#ifndef KVLAB_EXPERIMENTS_PROTOCOL_H_
#define KVLAB_EXPERIMENTS_PROTOCOL_H_

#include <cstdint>
#include <string>

#include "experiments/experiment.pb.h"

namespace kvlab::experiments {

// "chunked", "streaming", "prefill_compress", "compress_once", "retrieval", or "none".
std::string ProtocolName(const config::Experiment& experiment);

// The windows of prefill_compress or compress_once (they share one message), or null
// under another protocol.
const config::PrefillCompressProtocol* PrefillWindows(const config::Experiment& experiment);

// The longest prompt a retrieval protocol asks for (0 for none).
int64_t LongestPrompt(const config::RetrievalProtocol& retrieval);

// The tokens a fractional eviction budget refers to on a text of `text_tokens` tokens:
// the context a cache must hold (n_ctx, the streamed tokens, or a window's context).
int64_t BudgetReferenceTokens(const config::Experiment& experiment, int64_t text_tokens);

// What a protocol does with a text of `text_tokens` tokens: how many predictions it
// scores (retrieval: none; it scores answers), and the longest run of positions one
// cache sees from empty.
struct ProtocolExtent {
  int64_t scored_tokens = 0;
  int64_t window_tokens = 0;
  std::string window_field;  // The config field(s) that set window_tokens.
};

ProtocolExtent MeasureProtocol(const config::Experiment& experiment, int64_t text_tokens);

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_PROTOCOL_H_

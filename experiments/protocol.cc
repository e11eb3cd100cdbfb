#include "experiments/protocol.h"

#include <algorithm>

namespace kvlab::experiments {

int64_t LongestPrompt(const config::RetrievalProtocol& r) {
  return r.context_tokens().empty()
             ? 0
             : *std::max_element(r.context_tokens().begin(), r.context_tokens().end());
}

std::string ProtocolName(const config::Experiment& e) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return "chunked";
    case config::Experiment::kStreaming: return "streaming";
    case config::Experiment::kPrefillCompress: return "prefill_compress";
    case config::Experiment::kCompressOnce: return "compress_once";
    case config::Experiment::kRetrieval: return "retrieval";
    default: return "none";
  }
}

const config::PrefillCompressProtocol* PrefillWindows(const config::Experiment& e) {
  if (e.has_prefill_compress()) return &e.prefill_compress();
  if (e.has_compress_once()) return &e.compress_once();
  return nullptr;
}

int64_t BudgetReferenceTokens(const config::Experiment& e, int64_t text_tokens) {
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: return e.chunked().n_ctx();
    case config::Experiment::kStreaming:
      return e.streaming().max_tokens() > 0 ? std::min(e.streaming().max_tokens(), text_tokens)
                                            : text_tokens;
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: return PrefillWindows(e)->context_tokens();
    case config::Experiment::kRetrieval: return LongestPrompt(e.retrieval());
    default: return text_tokens;
  }
}

ProtocolExtent MeasureProtocol(const config::Experiment& e, int64_t text_tokens) {
  ProtocolExtent x;
  switch (e.protocol_case()) {
    case config::Experiment::kChunked: {
      const int64_t n_ctx = e.chunked().n_ctx();
      int64_t chunks = text_tokens / n_ctx;
      if (e.chunked().max_chunks() > 0) chunks = std::min<int64_t>(chunks, e.chunked().max_chunks());
      x.scored_tokens = chunks * (n_ctx - n_ctx / 2 - 1);
      x.window_tokens = n_ctx;
      x.window_field = "chunked.n_ctx";
      break;
    }
    case config::Experiment::kStreaming: {
      int64_t total = text_tokens;
      if (e.streaming().max_tokens() > 0) total = std::min(total, e.streaming().max_tokens());
      x.scored_tokens = std::max<int64_t>(total - 1, 0);
      x.window_tokens = total;
      x.window_field = "streaming.max_tokens (or the text's length)";
      break;
    }
    case config::Experiment::kPrefillCompress:
    case config::Experiment::kCompressOnce: {
      const config::PrefillCompressProtocol& p = *PrefillWindows(e);
      const int64_t window = p.context_tokens() + p.scored_tokens();
      int64_t windows = text_tokens / window;
      if (p.max_windows() > 0) windows = std::min<int64_t>(windows, p.max_windows());
      x.scored_tokens = windows * p.scored_tokens();
      x.window_tokens = window;
      x.window_field = ProtocolName(e) + ".context_tokens + scored_tokens";
      break;
    }
    case config::Experiment::kRetrieval: {
      // Answers, not predictions, are what it scores; the prompt and the answer's steps
      // are what a cache sees.
      const config::RetrievalProtocol& r = e.retrieval();
      x.scored_tokens = 0;
      x.window_tokens = LongestPrompt(r) + r.max_new_tokens();
      x.window_field = "retrieval.context_tokens + max_new_tokens";
      break;
    }
    default:
      break;
  }
  return x;
}

}  // namespace kvlab::experiments

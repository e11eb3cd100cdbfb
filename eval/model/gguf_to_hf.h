// Writes a GGUF model as a Hugging Face model directory: config.json, the weights as
// safetensors in transformers' names and order (each in transformers' convention, as
// its architecture says: llama's Q and K rows back in rotate-half order, Gemma's norm
// weights as w rather than 1 + w; quantized tensors dequantized to F32), sharded with an index above --shard_bytes, and, for a
// byte-level BPE vocabulary, tokenizer.json and tokenizer_config.json. It lets a real
// model be run through both loaders:
//
//   KVLAB_RETURN_IF_ERROR(ConvertGgufToHf(gguf_path, dir));
// or
//   MODEL=third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf
//   bazel run //eval/model:gguf_to_hf -- --gguf=$MODEL --out=/tmp/smollm2-hf
//   bazel run //experiments:run -- --config=experiments/configs/baseline.pbtxt
//       --model=/tmp/smollm2-hf --output_dir=/tmp/smollm2-hf-out  (one line)
#ifndef KVLAB_EVAL_MODEL_GGUF_TO_HF_H_
#define KVLAB_EVAL_MODEL_GGUF_TO_HF_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace kvlab::model {

// Writes the model of `gguf_path` (of a registered architecture, architecture.h) into
// `dir` (created if absent), in shards with an index when it holds more than
// `shard_bytes`.
absl::Status ConvertGgufToHf(const std::string& gguf_path, const std::string& dir,
                             int64_t shard_bytes = int64_t{1} << 30);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGUF_TO_HF_H_

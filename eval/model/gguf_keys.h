// Reading a decoder's hyperparameters from GGUF metadata: the steps every
// architecture's config (llama_config.h, gemma3_config.h) shares. Errors name the
// file and the key.
#ifndef KVLAB_EVAL_MODEL_GGUF_KEYS_H_
#define KVLAB_EVAL_MODEL_GGUF_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/rope_scaling.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_sizes.h"

namespace kvlab::model {

// Reads the optional key into `value`, leaving it unchanged when the key is absent; a
// key of the wrong type is an error.
absl::Status ReadOptionalInt(const gguf::GgufFile& file, const std::string& key,
                             int64_t& value);
absl::Status ReadOptionalDouble(const gguf::GgufFile& file, const std::string& key,
                                double& value);
absl::Status ReadOptionalString(const gguf::GgufFile& file, const std::string& key,
                                std::string& value);

// Values that would make every number NaN or switch a guard off, as load-time errors
// naming the file and `key`: a rope base that is not a number > 1; an RMS epsilon that
// is not a finite number > 0; a context length of 0 or less when the key is present (0
// would turn off the check against the trained context).
absl::Status CheckRopeBase(const gguf::GgufFile& file, const std::string& key, double base);
absl::Status CheckRmsEpsilon(const gguf::GgufFile& file, const std::string& key, double eps);
absl::Status CheckContextLength(const gguf::GgufFile& file, const std::string& key,
                                int64_t length);

// The sizes every architecture names under its own prefix: <arch>.block_count,
// .embedding_length, .feed_forward_length and .attention.head_count (required),
// .attention.head_count_kv (default: head_count) and .attention.key_length (default:
// embedding_length / head_count), and the vocabulary as token_embd.weight's rows
// (which must be [vocab, embedding_length] in torch order). InvalidArgument naming the
// file and the keys unless they are within decoder_sizes.h's limits, as config.json's
// sizes must be.
absl::StatusOr<DecoderSizes> ReadDecoderSizes(const gguf::GgufFile& file,
                                              absl::string_view architecture);

// The rotary embedding's frequency scaling, as llama.cpp reads it:
// <architecture>.rope.scaling.type ("none", or "linear", the default when absent) with
// .rope.scaling.factor (older files: .rope.scale_linear; absent or 0: no scaling), each
// frequency divided by the factor unless the type is "none"; and, when
// `frequency_factors`, the tensor rope_freqs.weight (F32, one divisor per rotated pair:
// Llama 3's scaling as llama.cpp's converter writes it). Other types ("yarn",
// "longrope") are Unimplemented naming the key and the supported ones.
absl::StatusOr<RopeScaling> ReadRopeScaling(const gguf::GgufFile& file,
                                            absl::string_view architecture, int64_t rope_dim,
                                            bool frequency_factors);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_GGUF_KEYS_H_

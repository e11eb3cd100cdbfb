// Loading a model of any supported architecture from a GGUF file.
//
// general.architecture picks the implementation: "llama" (LlamaModel) or "gemma3"
// (Gemma3Model). Any other is an Unimplemented error naming the file, the
// architecture and the supported ones.
#ifndef KVLAB_EVAL_MODEL_LOAD_MODEL_H_
#define KVLAB_EVAL_MODEL_LOAD_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_model.h"

namespace kvlab::model {

// The architectures LoadModel() runs, as general.architecture names them.
const std::vector<std::string>& SupportedArchitectures();

absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const gguf::GgufFile& file,
                                                        const LoadOptions& options);

// The model's description from its metadata alone, without loading a weight.
absl::StatusOr<ModelInfo> ReadModelInfo(const gguf::GgufFile& file);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LOAD_MODEL_H_

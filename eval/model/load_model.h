// Loading a model of any supported architecture from a GGUF file or a Hugging Face
// model directory.
//
// A GGUF file's general.architecture picks the implementation among the registered
// architectures (architecture.h; this library links them all). A directory's
// config.json does the same (hf_model_directory.h). Any other architecture is an
// Unimplemented error naming the file, the architecture and the registered ones.
//
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<ModelFiles> files, ModelFiles::Open(path));
//   KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, LoadModel(*files, {}));
#ifndef KVLAB_EVAL_MODEL_LOAD_MODEL_H_
#define KVLAB_EVAL_MODEL_LOAD_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_model.h"
#include "eval/model/hf_model_directory.h"

namespace kvlab::model {

// A model on disk, opened (mapped, headers parsed, no weight read yet): a GGUF file, or
// a Hugging Face directory with config.json and safetensors.
class ModelFiles {
 public:
  // A directory opens as a Hugging Face model, anything else as a GGUF file.
  static absl::StatusOr<std::unique_ptr<ModelFiles>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // Exactly one of these is set.
  const gguf::GgufFile* gguf() const { return gguf_.get(); }
  const HfModelDirectory* hf() const { return hf_.get(); }
  // Every file the model is read from (the GGUF, or config.json and the safetensors),
  // for fingerprints.
  std::vector<std::string> paths() const;

 private:
  explicit ModelFiles(std::string path) : path_(std::move(path)) {}

  std::string path_;
  std::unique_ptr<gguf::GgufFile> gguf_;
  std::unique_ptr<HfModelDirectory> hf_;
};

absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const gguf::GgufFile& file,
                                                        const LoadOptions& options);
absl::StatusOr<std::unique_ptr<DecoderModel>> LoadModel(const ModelFiles& files,
                                                        const LoadOptions& options);

// The model's description from its metadata alone, without loading a weight.
absl::StatusOr<ModelInfo> ReadModelInfo(const gguf::GgufFile& file);
absl::StatusOr<ModelInfo> ReadModelInfo(const ModelFiles& files);

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_LOAD_MODEL_H_

// Architecture: a decoder architecture kvlab runs, registered by name as policies and
// protocols are, so that the loaders and converters name none.
//
// An architecture is known by GGUF's general.architecture (its registry key, and
// ModelInfo::architecture) and by config.json's model_type and "architectures" class
// name. It reads a model's hyperparameters from either file into a ModelConfig, which
// builds the model from a WeightSource (tensors in GGUF's names, weight_source.h) and
// says how a Hugging Face checkpoint names and stores those tensors.
//
// A plugin is one file, `<name>_architecture.cc`: a ModelConfig and an Architecture in
// an anonymous namespace and one line,
//
//   KVLAB_REGISTER_ARCHITECTURE(qwen2, [] { return std::make_unique<Qwen2>(); });
//
// in an alwayslink library (kvlab_architecture() in architecture.bzl makes it so),
// listed in //eval/model:all_architectures, which every program that loads a model
// links (load_model). docs/architecture.md#add-an-architecture walks through one.
//
// Architectures and configs are immutable and thread-compatible.
#ifndef KVLAB_EVAL_MODEL_ARCHITECTURE_H_
#define KVLAB_EVAL_MODEL_ARCHITECTURE_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "core/registry.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/decoder_model.h"
#include "eval/model/hf_config.h"
#include "eval/model/hf_weight_source.h"
#include "eval/model/weight_source.h"

namespace kvlab::model {

// One model's hyperparameters, as its architecture read them from GGUF metadata or
// config.json.
class ModelConfig {
 public:
  virtual ~ModelConfig() = default;

  // The model's description; its name is general.name (GGUF) or set_name()'s.
  virtual ModelInfo Info() const = 0;
  // Names the model in reports (a Hugging Face directory's own name).
  virtual void set_name(std::string name) = 0;

  // The model, its weights from `weights` (GGUF's names and conventions). Errors name
  // the source and the tensor.
  virtual absl::StatusOr<std::unique_ptr<DecoderModel>> Build(
      const WeightSource& weights, const LoadOptions& options) const = 0;

  // Every tensor the model reads, in GGUF's names: a checkpoint holding another is
  // refused (checkpoint_tensors.h).
  virtual std::set<std::string> TensorNames() const = 0;
  // Whether the output projection is the embedding (a checkpoint's lm_head.weight is
  // then ignored).
  virtual bool tied_embeddings() const = 0;

  // How a Hugging Face checkpoint names the tensors and stores them (hf_weight_source.h).
  virtual HfTensorLayout HfLayout() const = 0;
  // The other way, for writing a GGUF model as a Hugging Face directory (gguf_to_hf.h):
  // the config.json transformers reads as this model (Unimplemented, naming
  // `gguf_path`, for what config.json cannot state), and a tensor as the model reads
  // it (fp32, GGUF name) turned into the checkpoint's convention.
  virtual absl::StatusOr<nlohmann::json> HfConfigJson(const std::string& gguf_path) const = 0;
  virtual at::Tensor ToHf(const std::string& tensor, at::Tensor t) const = 0;
};

class Architecture {
 public:
  virtual ~Architecture() = default;

  // GGUF's general.architecture: the registry key and ModelInfo::architecture.
  virtual std::string Name() const = 0;
  // config.json's model_type ("gemma3_text") and architectures[0] ("Gemma3ForCausalLM").
  virtual std::string HfModelType() const = 0;
  virtual std::string HfClassName() const = 0;

  // Reads and validates the hyperparameters; errors name the file and the key or field,
  // Unimplemented for a feature kvlab does not run.
  virtual absl::StatusOr<std::unique_ptr<ModelConfig>> FromGguf(
      const gguf::GgufFile& file) const = 0;
  virtual absl::StatusOr<std::unique_ptr<ModelConfig>> FromHf(const HfConfig& config) const = 0;
};

// The registry of architectures, keyed by Name().
PluginRegistry<Architecture>& ArchitectureRegistry();

// Registers `make` under `name`; aborts at start-up when the made architecture's Name()
// is not `name`, or when the name or its model_type is taken. Returns true, to
// initialise a static.
bool RegisterArchitecture(const std::string& name,
                          std::function<std::unique_ptr<Architecture>()> make);

// The registered architectures' names, sorted.
std::vector<std::string> ArchitectureNames();

// The architecture of a GGUF file, by its general.architecture; Unimplemented naming
// the file, the architecture and the registered ones.
absl::StatusOr<std::unique_ptr<Architecture>> GgufArchitecture(const gguf::GgufFile& file);

// The architecture config.json describes, as transformers finds it: by model_type,
// else by the first of "architectures". Unimplemented naming the file, what it names
// and the registered ones; InvalidArgument when it names none.
absl::StatusOr<std::unique_ptr<Architecture>> HfArchitecture(const HfConfig& config);
// Its Name().
absl::StatusOr<std::string> HfArchitectureName(const HfConfig& config);

}  // namespace kvlab::model

// Registers the architecture `name` (an identifier: GGUF's general.architecture) made
// by `make`, a callable returning std::unique_ptr<Architecture>. The library holding
// this line must be alwayslink (kvlab_architecture() makes it so).
#define KVLAB_REGISTER_ARCHITECTURE(name, make)            \
  static const bool kvlab_architecture_registered_##name = \
      ::kvlab::model::RegisterArchitecture(#name, make)

#endif  // KVLAB_EVAL_MODEL_ARCHITECTURE_H_

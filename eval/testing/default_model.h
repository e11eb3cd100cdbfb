// Where tests find the default model: a data dependency on //third_party/models:smollm2
// places it at this runfiles-relative path (third_party/setup.sh downloads it).
#ifndef KVLAB_EVAL_TESTING_DEFAULT_MODEL_H_
#define KVLAB_EVAL_TESTING_DEFAULT_MODEL_H_

namespace kvlab::testing {

inline constexpr char kDefaultModelPath[] =
    "third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf";

}  // namespace kvlab::testing

#endif  // KVLAB_EVAL_TESTING_DEFAULT_MODEL_H_

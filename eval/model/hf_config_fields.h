// The config.json fields every decoder architecture writes alike (gguf_to_hf), read from
// its own config struct, which names them the same way. An architecture adds its own
// fields (architectures, model_type, activation, rope_scaling, ...) to these.
#ifndef KVLAB_EVAL_MODEL_HF_CONFIG_FIELDS_H_
#define KVLAB_EVAL_MODEL_HF_CONFIG_FIELDS_H_

#include "nlohmann/json.hpp"

namespace kvlab::model {

template <typename Config>
nlohmann::json CommonHfConfigFields(const Config& c) {
  return {{"hidden_size", c.hidden},
          {"intermediate_size", c.ffn},
          {"num_hidden_layers", c.num_layers},
          {"num_attention_heads", c.q_heads},
          {"num_key_value_heads", c.kv_heads},
          {"head_dim", c.head_dim},
          {"vocab_size", c.vocab},
          {"rope_theta", c.rope_base},
          {"rms_norm_eps", c.rms_eps},
          {"max_position_embeddings", c.context_length},
          {"tie_word_embeddings", c.tied_embeddings},
          {"torch_dtype", "float32"}};
}

}  // namespace kvlab::model

#endif  // KVLAB_EVAL_MODEL_HF_CONFIG_FIELDS_H_

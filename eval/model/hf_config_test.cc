#include "eval/model/hf_config.h"

#include "absl/strings/str_format.h"
#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/architecture.h"
#include "eval/model/gemma3_config.h"
#include "eval/model/llama_config.h"
#include "eval/testing/default_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

// SmolLM2-135M-Instruct's config.json as published beside its safetensors.
constexpr char kSmolLm2Config[] = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 576,
  "initializer_range": 0.041666666666666664, "intermediate_size": 1536,
  "is_llama_config": true, "max_position_embeddings": 8192, "model_type": "llama",
  "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
  "pad_token_id": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_interleaved": false,
  "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.42.3", "use_cache": true,
  "vocab_size": 49152})";

// Qwen2.5-0.5B's.
constexpr char kQwen25Config[] = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936})";

// Gemma 3 270M's (layer_types written out: five local layers, then a global one).
constexpr char kGemma3Config[] = R"({
  "_sliding_window_pattern": 6, "architectures": ["Gemma3ForCausalLM"],
  "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": null,
  "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "initializer_range": 0.02,
  "intermediate_size": 2048,
  "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention",
    "sliding_attention", "sliding_attention", "full_attention", "sliding_attention",
    "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention",
    "full_attention", "sliding_attention", "sliding_attention", "sliding_attention",
    "sliding_attention", "sliding_attention", "full_attention"],
  "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4,
  "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0,
  "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000.0,
  "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": 512,
  "torch_dtype": "bfloat16", "transformers_version": "4.55.0.dev0",
  "use_bidirectional_attention": false, "use_cache": true, "vocab_size": 262144})";

HfConfig Parse(const std::string& text) {
  absl::StatusOr<HfConfig> config = HfConfig::Parse("m/config.json", text);
  EXPECT_THAT(config, IsOk());
  return config.ok() ? *std::move(config) : *HfConfig::Parse("m/config.json", "{}");
}

// `text` with `field`'s value replaced by `value` (or the field removed if empty).
std::string With(std::string text, const std::string& field, const std::string& value) {
  nlohmann::json json = nlohmann::json::parse(text);
  if (value.empty()) {
    json.erase(field);
  } else {
    json[field] = nlohmann::json::parse(value);
  }
  return json.dump();
}

absl::Status LlamaError(const std::string& text) {
  absl::StatusOr<HfConfig> config = HfConfig::Parse("m/config.json", text);
  if (!config.ok()) return config.status();
  absl::Status status = LlamaConfig::FromHf(*config).status();
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
  return status;
}

absl::Status Gemma3Error(const std::string& text) {
  absl::Status status = Gemma3Config::FromHf(Parse(text)).status();
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
  return status;
}

TEST(HfConfigTest, NamesTheArchitectureByModelTypeOrClass) {
  EXPECT_THAT(HfArchitectureName(Parse(kSmolLm2Config)), IsOkAndHolds(std::string("llama")));
  EXPECT_THAT(HfArchitectureName(Parse(kQwen25Config)), IsOkAndHolds(std::string("qwen2")));
  EXPECT_THAT(HfArchitectureName(Parse(kGemma3Config)), IsOkAndHolds(std::string("gemma3")));
  EXPECT_THAT(HfArchitectureName(Parse(With(kQwen25Config, "model_type", ""))),
              IsOkAndHolds(std::string("qwen2")));
  EXPECT_THAT(HfArchitectureName(Parse(With(kSmolLm2Config, "model_type", "\"mistral\""))),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("m/config.json: model_type 'mistral' is not supported; kvlab "
                                 "runs gemma3_text (Gemma3ForCausalLM), llama "
                                 "(LlamaForCausalLM), qwen2 (Qwen2ForCausalLM)")));
  EXPECT_THAT(HfArchitectureName(Parse(R"({"architectures": ["GPT2LMHeadModel"]})")),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("architectures[0] 'GPT2LMHeadModel' is not supported")));
  EXPECT_THAT(HfArchitectureName(Parse("{}")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model_type is missing")));
  EXPECT_THAT(HfConfig::Parse("m/config.json", "[1]"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("m/config.json: is a JSON array")));
  EXPECT_THAT(HfConfig::Read("/nonexistent/config.json"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/config.json")));
}

TEST(HfConfigTest, TypedReadsNameTheFieldAndWhatWasExpected) {
  const HfConfig c = Parse(R"({"a": 3, "b": 2.5, "c": "x", "d": true, "e": null, "f": 1e4})");
  EXPECT_THAT(c.Int("a"), IsOkAndHolds(3));
  EXPECT_THAT(c.Int("f"), IsOkAndHolds(10000));
  EXPECT_THAT(c.Int("e", 7), IsOkAndHolds(7));
  EXPECT_THAT(c.Int("b"), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("m/config.json: b must be an integer, got number 2.5")));
  EXPECT_THAT(c.Int("c"), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("c must be an integer, got string")));
  EXPECT_THAT(c.Int("zz"), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("m/config.json: zz is missing")));
  EXPECT_THAT(c.Double("a"), IsOkAndHolds(3.0));
  EXPECT_THAT(c.Double("d"), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("d must be a number, got boolean")));
  EXPECT_THAT(c.Bool("c", false), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("c must be true or false, got string")));
  EXPECT_THAT(c.String("a", ""), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("a must be a string, got number")));
}

TEST(LlamaHfConfigTest, SmolLm2MatchesItsGgufConversion) {
  ASSERT_OK_AND_ASSIGN(const LlamaConfig hf, LlamaConfig::FromHf(Parse(kSmolLm2Config)));
  ASSERT_OK_AND_ASSIGN(auto file, gguf::GgufFile::Open(testing::kDefaultModelPath));
  ASSERT_OK_AND_ASSIGN(const LlamaConfig gguf, LlamaConfig::FromGguf(*file));
  EXPECT_EQ(hf.architecture, gguf.architecture);
  EXPECT_EQ(hf.num_layers, gguf.num_layers);
  EXPECT_EQ(hf.hidden, gguf.hidden);
  EXPECT_EQ(hf.ffn, gguf.ffn);
  EXPECT_EQ(hf.q_heads, gguf.q_heads);
  EXPECT_EQ(hf.kv_heads, gguf.kv_heads);
  EXPECT_EQ(hf.head_dim, gguf.head_dim);
  EXPECT_EQ(hf.rope_dim, gguf.rope_dim);
  EXPECT_EQ(hf.vocab, gguf.vocab);
  EXPECT_DOUBLE_EQ(hf.rope_base, gguf.rope_base);
  EXPECT_FLOAT_EQ(hf.rms_eps, gguf.rms_eps);  // The GGUF stores it as float32.
  EXPECT_EQ(hf.context_length, gguf.context_length);
  EXPECT_EQ(hf.tied_embeddings, gguf.tied_embeddings);
  EXPECT_EQ(hf.rope_style, gguf.rope_style);
  EXPECT_EQ(hf.qkv_bias, gguf.qkv_bias);
}

TEST(LlamaHfConfigTest, Qwen2HasBiasesAndNeoxRope) {
  ASSERT_OK_AND_ASSIGN(const LlamaConfig c, LlamaConfig::FromHf(Parse(kQwen25Config)));
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_EQ(c.rope_style, RopeStyle::kHalf);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.kv_heads, 2);
  EXPECT_DOUBLE_EQ(c.rope_base, 1e6);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-6);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.context_length, 32768);
}

TEST(LlamaHfConfigTest, AbsentOptionalFieldsTakeTransformersDefaults) {
  ASSERT_OK_AND_ASSIGN(
      const LlamaConfig c,
      LlamaConfig::FromHf(Parse(R"({"model_type": "llama", "num_hidden_layers": 2,
          "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
          "vocab_size": 100})")));
  EXPECT_EQ(c.kv_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_DOUBLE_EQ(c.rope_base, 10000.0);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-6);
  EXPECT_EQ(c.context_length, 2048);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_FALSE(c.qkv_bias);
}

TEST(LlamaHfConfigTest, ReadsTransformers5RopeParameters) {
  std::string text = With(kSmolLm2Config, "rope_theta", "");
  text = With(text, "rope_parameters", R"({"rope_theta": 500000.0, "rope_type": "default"})");
  ASSERT_OK_AND_ASSIGN(const LlamaConfig c, LlamaConfig::FromHf(Parse(text)));
  EXPECT_DOUBLE_EQ(c.rope_base, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  // Llama 3.2's scaling in transformers 5's form; original_max_position_embeddings
  // absent from it falls back to max_position_embeddings, as transformers does.
  ASSERT_OK_AND_ASSIGN(
      const LlamaConfig llama3,
      LlamaConfig::FromHf(Parse(With(With(text, "max_position_embeddings", "131072"),
                                     "rope_parameters",
                                     R"({"rope_theta": 5e5, "rope_type": "llama3", "factor": 32.0,
                                         "low_freq_factor": 1.0, "high_freq_factor": 4.0})"))));
  EXPECT_DOUBLE_EQ(llama3.rope_base, 5e5);
  EXPECT_EQ(llama3.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(llama3.rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(llama3.rope_scaling.original_context, 131072);
  EXPECT_EQ(llama3.context_length, 131072);
}

// Llama 3.1's config.json (transformers 4's rope_scaling beside rope_theta): the scaling
// is read, and the context the runner guards stays max_position_embeddings, the
// context the model was trained for, not the original 8192.
TEST(LlamaHfConfigTest, ReadsLlama3AndLinearRopeScaling) {
  std::string text = With(kSmolLm2Config, "max_position_embeddings", "131072");
  text = With(text, "rope_scaling", R"({"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})");
  ASSERT_OK_AND_ASSIGN(const LlamaConfig c, LlamaConfig::FromHf(Parse(text)));
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.original_context, 8192);
  EXPECT_DOUBLE_EQ(c.rope_base, 100000);
  EXPECT_EQ(c.context_length, 131072);
  // A top-level original_max_position_embeddings wins over the object's, as in
  // transformers' standardize_rope_params.
  ASSERT_OK_AND_ASSIGN(const LlamaConfig top,
                       LlamaConfig::FromHf(Parse(With(text, "original_max_position_embeddings",
                                                      "4096"))));
  EXPECT_DOUBLE_EQ(top.rope_scaling.original_context, 4096);
  // transformers 4's older spelling, "type".
  ASSERT_OK_AND_ASSIGN(const LlamaConfig linear,
                       LlamaConfig::FromHf(Parse(With(kSmolLm2Config, "rope_scaling",
                                                      R"({"type": "linear", "factor": 2.0})"))));
  EXPECT_EQ(linear.rope_scaling.type, RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(linear.rope_scaling.factor, 2.0);
}

TEST(LlamaHfConfigTest, OtherRopeTypesAndMissingParametersAreErrorsNamingThem) {
  for (const char* type : {"yarn", "dynamic", "longrope"}) {
    EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling",
                                absl::StrFormat(R"({"rope_type": "%s", "factor": 4.0})", type))),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr(absl::StrFormat(
                             "m/config.json: rope_scaling.rope_type '%s' is not supported (kvlab "
                             "runs 'default', 'linear' and 'llama3' rotary embeddings)", type))));
  }
  EXPECT_THAT(LlamaError(With(With(kSmolLm2Config, "rope_theta", ""), "rope_parameters",
                              R"({"rope_theta": 1e4, "rope_type": "yarn", "factor": 4.0})")),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("rope_parameters.rope_type 'yarn' is not supported")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling",
                              R"({"rope_type": "llama3", "factor": 32.0})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: rope_scaling.low_freq_factor is missing")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling", R"({"rope_type": "linear"})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_scaling.factor is missing")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling",
                              R"({"rope_type": "linear", "factor": "8"})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_scaling.factor must be a finite number, got \"8\"")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling",
                              R"({"rope_type": "linear", "factor": -2})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_scaling.factor must be > 0")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling",
                              R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0,
                                  "high_freq_factor": 1.0})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_scaling.high_freq_factor must be > low_freq_factor > 0")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rope_scaling", R"([1, 2])")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rope_scaling must be an object or null")));
}

TEST(LlamaHfConfigTest, ErrorsNameTheFileAndField) {
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "hidden_size", "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: hidden_size is missing")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "num_hidden_layers", "\"30\"")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: num_hidden_layers must be an integer, got string")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "num_key_value_heads", "4")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inconsistent sizes")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "hidden_size", "4611686018427387904")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("within bounds")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "head_dim", "63")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("head_dim must be even, > 0 and <= 65536, got 63")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "rms_norm_eps", "\"1e-5\"")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rms_norm_eps must be a number, got string")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "tie_word_embeddings", "1")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tie_word_embeddings must be true or false")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "attention_bias", "true")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("attention_bias true")));
  EXPECT_THAT(LlamaError(With(kSmolLm2Config, "hidden_act", "\"gelu\"")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("hidden_act 'gelu'")));
  EXPECT_THAT(LlamaError(With(kQwen25Config, "use_sliding_window", "true")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("use_sliding_window")));
  EXPECT_THAT(LlamaError(kGemma3Config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("describes a gemma3 model, not llama or qwen2")));
}

TEST(ReadHfSizesTest, AbsentKeyValueHeadsAndHeadDimTakeTheArchitecturesDefaults) {
  const HfConfig config =
      Parse(With(With(kSmolLm2Config, "num_key_value_heads", ""), "head_dim", ""));
  ASSERT_OK_AND_ASSIGN(const DecoderSizes derived,
                       ReadHfSizes(config, /*default_kv_heads=*/std::nullopt,
                                   /*default_head_dim=*/std::nullopt));
  EXPECT_EQ(derived.num_layers, 30);
  EXPECT_EQ(derived.kv_heads, 9);    // num_attention_heads.
  EXPECT_EQ(derived.head_dim, 64);   // hidden_size / num_attention_heads.
  ASSERT_OK_AND_ASSIGN(const DecoderSizes fixed, ReadHfSizes(config, /*default_kv_heads=*/3,
                                                        /*default_head_dim=*/256));
  EXPECT_EQ(fixed.kv_heads, 3);
  EXPECT_EQ(fixed.head_dim, 256);
  EXPECT_THAT(ReadHfSizes(config, /*default_kv_heads=*/4, /*default_head_dim=*/256),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: inconsistent sizes")));
}

TEST(Gemma3HfConfigTest, Gemma3_270m) {
  ASSERT_OK_AND_ASSIGN(const Gemma3Config c, Gemma3Config::FromHf(Parse(kGemma3Config)));
  EXPECT_EQ(c.num_layers, 18);
  EXPECT_EQ(c.hidden, 640);
  EXPECT_EQ(c.ffn, 2048);
  EXPECT_EQ(c.q_heads, 4);
  EXPECT_EQ(c.kv_heads, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.vocab, 262144);
  EXPECT_DOUBLE_EQ(c.rope_base, 1e6);
  EXPECT_DOUBLE_EQ(c.local_rope_base, 1e4);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_DOUBLE_EQ(c.query_scale, 1.0 / 16.0);
  EXPECT_EQ(c.final_logit_softcap, 0.0);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.context_length, 32768);
  std::vector<bool> expected(18, true);
  for (int i : {5, 11, 17}) expected[i] = false;
  EXPECT_THAT(c.local_layers, ElementsAreArray(expected));
  // Without layer_types, the pattern gives the same layers.
  ASSERT_OK_AND_ASSIGN(const Gemma3Config from_pattern,
                       Gemma3Config::FromHf(Parse(With(kGemma3Config, "layer_types", ""))));
  EXPECT_THAT(from_pattern.local_layers, ElementsAreArray(expected));
  ASSERT_OK_AND_ASSIGN(
      const Gemma3Config period_3,
      Gemma3Config::FromHf(Parse(With(With(kGemma3Config, "layer_types", ""),
                                      "sliding_window_pattern", "3"))));
  EXPECT_FALSE(period_3.local_layers[2]);
  EXPECT_TRUE(period_3.local_layers[3]);
}

TEST(Gemma3HfConfigTest, ReadsTransformers5RopeParametersPerLayerType) {
  std::string text = With(With(kGemma3Config, "rope_theta", ""), "rope_local_base_freq", "");
  text = With(text, "rope_parameters",
              R"({"full_attention": {"rope_theta": 2e6, "rope_type": "default"},
                  "sliding_attention": {"rope_theta": 2e4, "rope_type": "default"}})");
  ASSERT_OK_AND_ASSIGN(const Gemma3Config c, Gemma3Config::FromHf(Parse(text)));
  EXPECT_DOUBLE_EQ(c.rope_base, 2e6);
  EXPECT_DOUBLE_EQ(c.local_rope_base, 2e4);
  // Each layer type reads its own scaling.
  text = With(text, "rope_parameters",
              R"({"full_attention": {"rope_theta": 1e6, "rope_type": "linear", "factor": 8.0},
                  "sliding_attention": {"rope_theta": 1e4, "rope_type": "default"}})");
  ASSERT_OK_AND_ASSIGN(const Gemma3Config scaled, Gemma3Config::FromHf(Parse(text)));
  EXPECT_EQ(scaled.rope_scaling.type, RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(scaled.rope_scaling.factor, 8.0);
  EXPECT_EQ(scaled.local_rope_scaling.type, RopeScaling::Type::kNone);
}

// Gemma 3 4B's config.json: rope_scaling scales the global layers only, as in
// transformers' Gemma3TextConfig; the local layers rotate unscaled with
// rope_local_base_freq.
TEST(Gemma3HfConfigTest, RopeScalingScalesTheGlobalLayersOnly) {
  const std::string text = With(With(kGemma3Config, "rope_scaling",
                                     R"({"rope_type": "linear", "factor": 8.0})"),
                                "max_position_embeddings", "131072");
  ASSERT_OK_AND_ASSIGN(const Gemma3Config c, Gemma3Config::FromHf(Parse(text)));
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLinear);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_base, 1e6);
  EXPECT_EQ(c.local_rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_DOUBLE_EQ(c.local_rope_base, 1e4);
  EXPECT_EQ(c.context_length, 131072);
}

TEST(Gemma3HfConfigTest, ErrorsNameTheFileAndField) {
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "layer_types", R"(["sliding_attention"])")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: layer_types must be a list of 18 entries")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "layer_types",
                               nlohmann::json(std::vector<std::string>(18, "local")).dump())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("layer_types entries must be \"sliding_attention\"")));
  EXPECT_THAT(Gemma3Error(With(With(kGemma3Config, "layer_types", ""), "sliding_window_pattern",
                               "0")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("sliding_window_pattern must be > 0")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "query_pre_attn_scalar", "\"256\"")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m/config.json: query_pre_attn_scalar must be a number")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "sliding_window", "-1")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sliding_window must be > 0")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "attn_logit_softcapping", "50.0")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("attn_logit_softcapping")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "rope_scaling",
                               R"({"rope_type": "yarn", "factor": 8.0})")),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("rope_scaling.rope_type 'yarn' is not supported")));
  EXPECT_THAT(Gemma3Error(With(kGemma3Config, "num_attention_heads", "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("num_attention_heads is missing")));
  EXPECT_THAT(Gemma3Error(kQwen25Config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not gemma3")));
}

}  // namespace
}  // namespace kvlab::model

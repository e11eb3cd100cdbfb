// A Hugging Face directory and its GGUF conversion are one model: the same logits
// through both loaders, for llama (whose Q and K rows the loader permutes), qwen2 (Q,
// K, V biases, NEOX rope) and gemma3 (sliding-window layers, (1 + w) norms), from
// F32, BF16 and F16 checkpoints, single-file and sharded. And the Hugging Face model
// computes what transformers' definition of Llama computes from those weights, in their
// own order (rotate-half RoPE on the unpermuted rows).
#include <ATen/ATen.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>

#include "base/status_matchers.h"
#include "core/reference_attention.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/load_model.h"
#include "eval/model/model_test_util.h"
#include "eval/model/tiny_hf.h"
#include "eval/safetensors/safetensors_checkpoint.h"
#include "eval/safetensors/safetensors_tensor.h"
#include "eval/safetensors/safetensors_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// 20 tokens: past the gemma3 model's sliding window of 6.
at::Tensor Tokens(int64_t vocab) {
  return at::tensor(std::vector<int64_t>{3, 17, 5, 90, 42, 8, 8, 1, 63, 77, 2, 50, 31, 4, 88,
                                         12, 9, 70, 26, 45}) % vocab;
}

struct BothFormats {
  std::unique_ptr<ModelFiles> hf_files, gguf_files;
  std::unique_ptr<DecoderModel> hf, gguf;
};

void LoadBoth(const TinyHfOptions& o, const std::string& name, BothFormats& both,
              at::ScalarType dtype = at::kFloat) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  const std::string gguf = ::testing::TempDir() + "/" + name + ".gguf";
  ASSERT_THAT(WriteTinyHfModel(dir, o), IsOk());
  ASSERT_THAT(WriteTinyHfModelAsGguf(gguf, o), IsOk());
  ASSERT_OK_AND_ASSIGN(both.hf_files, ModelFiles::Open(dir));
  ASSERT_OK_AND_ASSIGN(both.gguf_files, ModelFiles::Open(gguf));
  ASSERT_NE(both.hf_files->hf(), nullptr);
  ASSERT_NE(both.gguf_files->gguf(), nullptr);
  LoadOptions options;
  options.weight_dtype = dtype;
  ASSERT_OK_AND_ASSIGN(both.hf, LoadModel(*both.hf_files, options));
  ASSERT_OK_AND_ASSIGN(both.gguf, LoadModel(*both.gguf_files, options));
}

// Full and streamed logits of both models agree within fp32 rounding.
void ExpectSameLogits(const BothFormats& both, int64_t vocab, double tolerance = 2e-6) {
  const at::Tensor tokens = Tokens(vocab);
  at::Tensor hf_full, hf_streamed, gguf_full, gguf_streamed;
  FullAndStreamedLogits(*both.hf, tokens, hf_full, hf_streamed);
  FullAndStreamedLogits(*both.gguf, tokens, gguf_full, gguf_streamed);
  ASSERT_TRUE(hf_full.defined() && gguf_full.defined());
  EXPECT_LT(MaxRelativeError(hf_full, gguf_full), tolerance);
  EXPECT_LT(MaxRelativeError(hf_streamed, gguf_streamed), tolerance);
  // One token at a time against all at once: matmuls of other shapes round otherwise,
  // which bf16 and fp16 weights make visible.
  if (both.hf->weight_dtype() == at::kFloat) {
    EXPECT_LT(MaxRelativeError(hf_streamed, hf_full), 1e-4);
  }
  // Not trivially equal: the logits vary with the token and its position.
  EXPECT_GT(hf_full.std().item<double>(), 0.1);
}

void ExpectSameInfo(const DecoderModel& hf, const DecoderModel& gguf) {
  const ModelInfo a = hf.info(), b = gguf.info();
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.attention.num_layers, b.attention.num_layers);
  EXPECT_EQ(a.attention.q_heads, b.attention.q_heads);
  EXPECT_EQ(a.attention.kv_heads, b.attention.kv_heads);
  EXPECT_EQ(a.attention.head_dim, b.attention.head_dim);
  EXPECT_EQ(a.attention.sliding_window, b.attention.sliding_window);
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(hf.WeightBytes(), gguf.WeightBytes());
}

class BothFormatsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BothFormatsTest, SameLogitsTiedAndUntied) {
  for (const bool tied : {true, false}) {
    TinyHfOptions o;
    o.architecture = GetParam();
    o.tied_embeddings = tied;
    if (o.architecture == "gemma3") {
      o.q_heads = 2;
      o.kv_heads = 1;
      o.head_dim = 16;
    }
    BothFormats both;
    LoadBoth(o, o.architecture + (tied ? "_tied" : "_untied"), both);
    ASSERT_NE(both.hf, nullptr);
    ExpectSameInfo(*both.hf, *both.gguf);
    ExpectSameLogits(both, o.vocab);
  }
}

TEST_P(BothFormatsTest, Bf16AndF16CheckpointsShardedOrNot) {
  for (const std::string dtype : {"BF16", "F16"}) {
    TinyHfOptions o;
    o.architecture = GetParam();
    o.dtype = dtype;
    o.sharded = dtype == "F16";
    BothFormats both;
    // Widened to fp32 on load: the values the GGUF holds as F32.
    LoadBoth(o, o.architecture + "_" + dtype, both);
    ASSERT_NE(both.hf, nullptr);
    ExpectSameLogits(both, o.vocab);
    // Kept in the checkpoint's dtype: the same weights again.
    const at::ScalarType kept = dtype == "BF16" ? at::kBFloat16 : at::kHalf;
    BothFormats narrow;
    LoadBoth(o, o.architecture + "_" + dtype + "_kept", narrow, kept);
    ASSERT_NE(narrow.hf, nullptr);
    EXPECT_EQ(narrow.hf->weight_dtype(), kept);
    ExpectSameLogits(narrow, o.vocab, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, BothFormatsTest,
                         ::testing::Values("llama", "qwen2", "gemma3"));

// transformers' LlamaForCausalLM / Qwen2ForCausalLM written out from the checkpoint's
// own tensors: rotate-half RoPE on the rows as stored, biases added when present.
// RoPE scaling read from config.json (rope_scaling) and from the GGUF as llama.cpp's
// converter writes it (rope_freqs.weight for llama3; rope.scaling.type and .factor for
// linear) gives one model, which differs from the unscaled one; Gemma 3's local layers
// stay unscaled; the context the runner guards stays max_position_embeddings.
TEST(HfModelTest, RopeScalingFromConfigJsonAndFromGgufGivesOneModel) {
  const std::pair<std::string, std::string> cases[] = {
      {"llama", "llama3"}, {"llama", "linear"}, {"qwen2", "linear"}, {"gemma3", "linear"}};
  for (const auto& [architecture, scaling] : cases) {
    SCOPED_TRACE(architecture + " " + scaling);
    TinyHfOptions o;
    o.architecture = architecture;
    // Unscaled wavelengths 2π, 20, 63 and 199 positions: with original_context 128,
    // llama3 keeps the first two (< 128 / 4), blends the third and divides the fourth
    // (> 128 / 1).
    o.rope_base = 100.0;
    o.rope_scaling = scaling;
    if (architecture == "gemma3") {
      o.q_heads = 2;
      o.kv_heads = 1;
      o.head_dim = 16;
    }
    const std::string name = "rope_" + architecture + "_" + scaling;
    BothFormats both;
    LoadBoth(o, name, both);
    ASSERT_NE(both.hf, nullptr);
    ExpectSameInfo(*both.hf, *both.gguf);
    // The GGUF's divisors are fp32.
    ExpectSameLogits(both, o.vocab, 1e-5);
    EXPECT_EQ(both.hf->info().context_length, 4096);
    EXPECT_EQ(both.gguf->info().context_length, 4096);

    const int global = architecture == "gemma3" ? o.pattern - 1 : 0;
    const int64_t pairs = o.head_dim / 2;
    std::vector<double> expected(pairs);
    for (int64_t i = 0; i < pairs; ++i) {
      const double f = std::pow(o.rope_base, -2.0 * i / o.head_dim);
      if (scaling == "linear") {
        expected[i] = f / 8.0;
      } else if (i < 2) {
        expected[i] = f;
      } else if (i == 3) {
        expected[i] = f / 8.0;
      } else {
        const double s = (128.0 * f / (2 * M_PI) - 1.0) / 3.0;  // Pair 2: wavelength 62.8.
        expected[i] = (1 - s) * f / 8.0 + s * f;
      }
    }
    for (const DecoderModel* model : {both.hf.get(), both.gguf.get()}) {
      const at::Tensor frequencies = model->ropes()[global].inverse_frequencies();
      for (int64_t i = 0; i < pairs; ++i) {
        EXPECT_NEAR(frequencies[i].item<double>() / expected[i], 1.0, 1e-7) << "pair " << i;
      }
      if (architecture == "gemma3") {  // Layer 0 is local: unscaled, with its own base.
        const at::Tensor local = model->ropes()[0].inverse_frequencies();
        EXPECT_NEAR(local[1].item<double>(), std::pow(o.local_rope_base, -2.0 / o.head_dim),
                    1e-15);
      }
    }

    TinyHfOptions unscaled_options = o;
    unscaled_options.rope_scaling = "";
    BothFormats unscaled;
    LoadBoth(unscaled_options, name + "_unscaled", unscaled);
    ASSERT_NE(unscaled.hf, nullptr);
    at::Tensor scaled_logits, unscaled_logits, streamed;
    FullAndStreamedLogits(*both.hf, Tokens(o.vocab), scaled_logits, streamed);
    FullAndStreamedLogits(*unscaled.hf, Tokens(o.vocab), unscaled_logits, streamed);
    EXPECT_GT(MaxRelativeError(scaled_logits, unscaled_logits), 1e-3);
  }
}

// A GGUF whose frequencies are divided by rope_freqs.weight has no config.json form:
// converting it is refused before anything is written, rather than writing a
// directory that describes an unscaled model.
TEST(HfModelTest, GgufToHfRefusesPerPairFrequencyFactors) {
  TinyHfOptions o;
  o.rope_scaling = "llama3";
  const std::string gguf = ::testing::TempDir() + "/rope_freqs_to_hf.gguf";
  const std::string dir = ::testing::TempDir() + "/rope_freqs_to_hf";
  ASSERT_THAT(WriteTinyHfModelAsGguf(gguf, o), IsOk());
  EXPECT_THAT(ConvertGgufToHf(gguf, dir),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("rope_freqs_to_hf.gguf: rope_freqs.weight (per-pair frequency "
                                 "factors) has no config.json equivalent")));
  struct stat info;
  EXPECT_NE(::stat(dir.c_str(), &info), 0);
}

at::Tensor TransformersLlamaLogits(const safetensors::SafetensorsCheckpoint& checkpoint,
                                   const TinyHfOptions& o, const at::Tensor& tokens) {
  const auto w = [&](const std::string& name) -> at::Tensor {
    const auto* found = checkpoint.Find(name);
    if (found == nullptr) return at::Tensor();
    return ValueOrAddFailure(safetensors::LoadTensor(*found->file, *found->tensor, at::kFloat));
  };
  const auto norm = [](const at::Tensor& x, const at::Tensor& weight) {
    return x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * weight;
  };
  const auto project = [&](const at::Tensor& x, const std::string& name) {
    at::Tensor y = at::matmul(x, w(name + ".weight").t());
    const at::Tensor bias = w(name + ".bias");
    return bias.defined() ? y + bias : y;
  };
  const int64_t n = tokens.size(0), d = o.head_dim;
  const at::Tensor positions = at::arange(n, at::kLong);
  at::Tensor x = w("model.embed_tokens.weight").index_select(0, tokens);
  for (int i = 0; i < o.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const at::Tensor h = norm(x, w(p + "input_layernorm.weight"));
    const auto heads = [&](const at::Tensor& t, int64_t count) {
      return t.view({n, count, d}).transpose(0, 1).contiguous();
    };
    at::Tensor q = heads(project(h, p + "self_attn.q_proj"), o.q_heads);
    at::Tensor k = heads(project(h, p + "self_attn.k_proj"), o.kv_heads);
    const at::Tensor v = heads(project(h, p + "self_attn.v_proj"), o.kv_heads);
    q = testing::ReferenceRope(q, positions, o.rope_base, d, /*interleaved=*/false);
    k = testing::ReferenceRope(k, positions, o.rope_base, d, /*interleaved=*/false);
    const at::Tensor attention =
        testing::ReferenceAttention(q, k, v).transpose(0, 1).reshape({n, o.q_heads * d});
    x = x + at::matmul(attention, w(p + "self_attn.o_proj.weight").t());
    const at::Tensor f = norm(x, w(p + "post_attention_layernorm.weight"));
    x = x + at::matmul(at::silu(at::matmul(f, w(p + "mlp.gate_proj.weight").t())) *
                           at::matmul(f, w(p + "mlp.up_proj.weight").t()),
                       w(p + "mlp.down_proj.weight").t());
  }
  const at::Tensor head = o.tied_embeddings ? w("model.embed_tokens.weight") : w("lm_head.weight");
  return at::matmul(norm(x, w("model.norm.weight")), head.t());
}

TEST(HfModelTest, LlamaAndQwen2ComputeTransformersDefinitionFromTheRowsAsStored) {
  for (const std::string architecture : {"llama", "qwen2"}) {
    TinyHfOptions o;
    o.architecture = architecture;
    o.tied_embeddings = false;
    const std::string dir = ::testing::TempDir() + "/reference_" + architecture;
    ASSERT_THAT(WriteTinyHfModel(dir, o), IsOk());
    ASSERT_OK_AND_ASSIGN(auto files, ModelFiles::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto model, LoadModel(*files, {}));
    const at::Tensor tokens = Tokens(o.vocab);
    at::Tensor full, streamed;
    FullAndStreamedLogits(*model, tokens, full, streamed);
    const at::Tensor expected = TransformersLlamaLogits(files->hf()->checkpoint(), o, tokens);
    EXPECT_LT(MaxRelativeError(full, expected), 1e-5) << architecture;
    EXPECT_LT(MaxRelativeError(streamed, expected), 1e-5) << architecture;
  }
}

TEST(HfModelTest, InfoComesFromConfigJsonAndTheDirectoryName) {
  TinyHfOptions o;
  o.architecture = "gemma3";
  o.layers = 4;
  o.q_heads = 2;
  o.kv_heads = 1;
  o.head_dim = 16;
  const std::string dir = ::testing::TempDir() + "/tiny-gemma";
  ASSERT_THAT(WriteTinyHfModel(dir, o), IsOk());
  ASSERT_OK_AND_ASSIGN(auto files, ModelFiles::Open(dir + "/"));
  ASSERT_OK_AND_ASSIGN(const ModelInfo info, ReadModelInfo(*files));
  EXPECT_EQ(info.architecture, "gemma3");
  EXPECT_EQ(info.name, "tiny-gemma");
  EXPECT_EQ(info.context_length, 4096);
  EXPECT_EQ(info.attention.sliding_window, (std::vector<int64_t>{6, 6, 0, 6}));
  EXPECT_THAT(files->paths(), ::testing::ElementsAre(dir + "//config.json",
                                                     dir + "//model.safetensors"));
}

// Writes `dir` as a tiny llama whose checkpoint is replaced by `writer`'s.
void WriteWithCheckpoint(const std::string& dir, const safetensors::SafetensorsWriter& writer) {
  ASSERT_THAT(WriteTinyHfModel(dir, TinyHfOptions{}), IsOk());
  ASSERT_THAT(writer.WriteFile(dir + "/model.safetensors"), IsOk());
}

absl::Status LoadError(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ModelFiles>> files = ModelFiles::Open(path);
  absl::Status status = files.status();
  if (files.ok()) status = LoadModel(**files, {}).status();
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
  return status;
}

TEST(HfModelTest, BadDirectoriesAreOneLineErrorsNamingTheFile) {
  const std::string empty = ::testing::TempDir() + "/no_config";
  ::mkdir(empty.c_str(), 0755);
  EXPECT_THAT(LoadError(empty), StatusIs(absl::StatusCode::kNotFound,
                                         HasSubstr("no_config/config.json: cannot read")));

  const std::string no_weights = ::testing::TempDir() + "/no_weights";
  ASSERT_THAT(WriteTinyHfModel(no_weights, TinyHfOptions{}), IsOk());
  ::unlink((no_weights + "/model.safetensors").c_str());
  EXPECT_THAT(LoadError(no_weights),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("holds neither model.safetensors")));

  const std::string mistral = ::testing::TempDir() + "/mistral";
  ASSERT_THAT(WriteTinyHfModel(mistral, TinyHfOptions{}), IsOk());
  std::ofstream(mistral + "/config.json") << R"({"model_type": "mistral"})";
  EXPECT_THAT(LoadError(mistral),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("mistral/config.json: model_type 'mistral' is not supported; "
                                 "kvlab runs gemma3_text (Gemma3ForCausalLM), llama")));

  // A tensor missing, of the wrong shape, of a dtype kvlab does not load.
  TinyHfOptions o;
  const int64_t h = o.hidden;
  safetensors::SafetensorsWriter missing;
  missing.AddTensor("model.embed_tokens.weight", "F32", {o.vocab, h},
                    safetensors::F32Bytes(std::vector<float>(o.vocab * h, 0.1f)));
  WriteWithCheckpoint(::testing::TempDir() + "/missing", missing);
  EXPECT_THAT(LoadError(::testing::TempDir() + "/missing"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("missing/model.safetensors: no tensor 'model.norm.weight' "
                                 "(the model's 'output_norm.weight')")));
  safetensors::SafetensorsWriter shape;
  shape.AddTensor("model.embed_tokens.weight", "F32", {h, o.vocab},
                  safetensors::F32Bytes(std::vector<float>(o.vocab * h, 0.1f)));
  WriteWithCheckpoint(::testing::TempDir() + "/shape", shape);
  EXPECT_THAT(LoadError(::testing::TempDir() + "/shape"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor 'model.embed_tokens.weight' has shape [32, 96], "
                                 "expected [96, 32]")));
  safetensors::SafetensorsWriter dtype;
  dtype.AddTensor("model.embed_tokens.weight", "F64", {o.vocab, h},
                  std::string(o.vocab * h * 8, '\0'));
  WriteWithCheckpoint(::testing::TempDir() + "/f64", dtype);
  EXPECT_THAT(LoadError(::testing::TempDir() + "/f64"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("tensor 'model.embed_tokens.weight' has dtype F64")));
}

}  // namespace
}  // namespace kvlab::model

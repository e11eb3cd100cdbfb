#include "eval/model/gemma3_model.h"

#include <ATen/ATen.h>

#include <cmath>

#include "base/status_matchers.h"
#include "core/reference_attention.h"
#include "eval/gguf/gguf_tensor.h"
#include "eval/model/load_model.h"
#include "eval/model/model_test_util.h"
#include "eval/model/tiny_gemma3.h"
#include "eval/model/tiny_llama.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<gguf::GgufFile> OpenTiny(const TinyGemma3Options& options,
                                         const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_THAT(WriteTinyGemma3(path, options), IsOk());
  return ValueOrAddFailure(gguf::GgufFile::Open(path));
}

// Gemma 3 written out step by step from its definition, with no cache: explicit
// window masks, NEOX rotation at each layer's base, (1 + w) norms whose stored weights
// already hold the 1. Returns logits [n, vocab] for tokens [n].
at::Tensor ReferenceLogits(const gguf::GgufFile& file, const TinyGemma3Options& o,
                           const at::Tensor& tokens) {
  const auto w = [&](const std::string& name) -> at::Tensor {
    const gguf::TensorInfo* info = ValueOrAddFailure(file.FindTensor(name));
    if (info == nullptr) return at::Tensor();
    return ValueOrAddFailure(gguf::LoadTensor(file, *info, at::kFloat));
  };
  const auto norm = [](const at::Tensor& x, const at::Tensor& weight) {
    return x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-6) * weight;
  };
  const int64_t n = tokens.size(0), d = o.head_dim;
  const at::Tensor positions = at::arange(n, at::kLong);
  at::Tensor x = w("token_embd.weight").index_select(0, tokens) * std::sqrt(double(o.hidden));
  for (int i = 0; i < o.layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    const bool local = i % o.pattern < o.pattern - 1;
    const double base = local ? o.local_rope_base : o.rope_base;
    const at::Tensor h = norm(x, w(p + "attn_norm.weight"));
    // [n, heads * d] -> [heads, n, d]
    at::Tensor q = norm(at::matmul(h, w(p + "attn_q.weight").t()).view({n, o.q_heads, d}),
                        w(p + "attn_q_norm.weight"))
                       .transpose(0, 1);
    at::Tensor k = norm(at::matmul(h, w(p + "attn_k.weight").t()).view({n, o.kv_heads, d}),
                        w(p + "attn_k_norm.weight"))
                       .transpose(0, 1);
    const at::Tensor v = at::matmul(h, w(p + "attn_v.weight").t()).view({n, o.kv_heads, d}).transpose(0, 1);
    q = testing::ReferenceRope(q.contiguous(), positions, base, d, /*interleaved=*/false);
    k = testing::ReferenceRope(k.contiguous(), positions, base, d, /*interleaved=*/false);
    const at::Tensor kk = k.repeat_interleave(o.q_heads / o.kv_heads, 0);
    const at::Tensor vv = v.repeat_interleave(o.q_heads / o.kv_heads, 0);
    at::Tensor scores = at::matmul(q, kk.transpose(1, 2)) / std::sqrt(double(d));
    const at::Tensor query = positions.unsqueeze(1), key = positions.unsqueeze(0);
    at::Tensor hidden_mask = key > query;
    if (local) hidden_mask = hidden_mask.logical_or(key <= query - o.sliding_window);
    scores.masked_fill_(hidden_mask, -INFINITY);
    const at::Tensor attention =
        at::matmul(at::softmax(scores, -1), vv).transpose(0, 1).reshape({n, o.q_heads * d});
    x = x + norm(at::matmul(attention, w(p + "attn_output.weight").t()),
                 w(p + "post_attention_norm.weight"));
    const at::Tensor f = norm(x, w(p + "ffn_norm.weight"));
    const at::Tensor gated = at::gelu(at::matmul(f, w(p + "ffn_gate.weight").t()), "tanh") *
                             at::matmul(f, w(p + "ffn_up.weight").t());
    x = x + norm(at::matmul(gated, w(p + "ffn_down.weight").t()), w(p + "post_ffw_norm.weight"));
  }
  at::Tensor logits = at::matmul(norm(x, w("output_norm.weight")), w("token_embd.weight").t());
  if (o.final_logit_softcap > 0) {
    logits = at::tanh(logits / o.final_logit_softcap) * o.final_logit_softcap;
  }
  return logits;
}

TEST(Gemma3ModelTest, ReadsConfigFromGguf) {
  auto file = OpenTiny({}, "config.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, Gemma3Model::Load(*file, {}));
  const Gemma3Config& c = model->config();
  EXPECT_EQ(c.num_layers, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.kv_heads, 1);
  EXPECT_THAT(c.local_layers, ElementsAre(true, true, false, true));
  EXPECT_DOUBLE_EQ(c.query_scale, 0.25);
  const ModelInfo info = model->info();
  EXPECT_EQ(info.architecture, "gemma3");
  EXPECT_THAT(info.attention.sliding_window, ElementsAre(8, 8, 0, 8));
  const LayerRopes ropes = model->ropes();
  EXPECT_NEAR(ropes[0].inverse_frequencies()[1].item<double>(), std::pow(1e4, -2.0 / ropes[0].rotary_dim()), 1e-15);
  EXPECT_NEAR(ropes[2].inverse_frequencies()[1].item<double>(), std::pow(1e6, -2.0 / ropes[2].rotary_dim()), 1e-15);
  EXPECT_EQ(ropes[2].style(), RopeStyle::kHalf);
}

// The model, prefilled in one step through its cache, matches the definition.
TEST(Gemma3ModelTest, ForwardMatchesReference) {
  TinyGemma3Options options;
  options.final_logit_softcap = 5.0;
  auto file = OpenTiny(options, "reference.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, Gemma3Model::Load(*file, {}));
  const at::Tensor tokens = at::randint(0, options.vocab, {20}, at::kLong);
  ASSERT_OK_AND_ASSIGN(auto cache, model->NewDenseCache());
  ASSERT_OK_AND_ASSIGN(const at::Tensor hidden,
                       model->Forward(tokens.unsqueeze(0), 0, {cache.get()}));
  const at::Tensor logits = model->Logits(hidden).squeeze(0);
  EXPECT_LT(MaxRelativeError(logits, ReferenceLogits(*file, options, tokens)), 1e-4);
}

// Token-by-token decoding, far past the window, equals the full causal forward, and the
// local layers hold window - 1 tokens at the end.
TEST(Gemma3ModelTest, StreamingEqualsFullForwardPastTheWindow) {
  const TinyGemma3Options options;
  auto file = OpenTiny(options, "stream.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, LoadModel(*file, {}));
  const int64_t n = 5 * options.sliding_window + 3;
  const at::Tensor tokens = at::randint(0, options.vocab, {n}, at::kLong);
  at::Tensor full, streamed;
  ASSERT_NO_FATAL_FAILURE(FullAndStreamedLogits(*model, tokens, full, streamed));
  EXPECT_LT(MaxRelativeError(streamed, full), 1e-4);
  ASSERT_OK_AND_ASSIGN(auto cache, model->NewDenseCache());
  ASSERT_THAT(model->Forward(tokens.unsqueeze(0), 0, {cache.get()}), IsOk());
  EXPECT_EQ(cache->Length(0), options.sliding_window - 1);
  EXPECT_EQ(cache->Length(2), n);
}

TEST(Gemma3ModelTest, LoadModelPicksTheArchitecture) {
  auto gemma = OpenTiny({}, "pick.gguf");
  ASSERT_OK_AND_ASSIGN(auto gemma_model, LoadModel(*gemma, {}));
  EXPECT_EQ(gemma_model->info().architecture, "gemma3");
  const std::string llama_path = ::testing::TempDir() + "/pick_llama.gguf";
  ASSERT_THAT(WriteTinyLlama(llama_path), IsOk());
  ASSERT_OK_AND_ASSIGN(auto llama, gguf::GgufFile::Open(llama_path));
  ASSERT_OK_AND_ASSIGN(auto llama_model, LoadModel(*llama, {}));
  EXPECT_EQ(llama_model->info().architecture, "llama");
  ASSERT_OK_AND_ASSIGN(const ModelInfo llama_info, ReadModelInfo(*llama));
  EXPECT_EQ(llama_info.attention.num_layers, 2);
}

TEST(Gemma3ModelTest, UnknownArchitectureNamesTheSupportedOnes) {
  TinyGemma3Options options;
  options.architecture = "phi3";
  auto file = OpenTiny(options, "phi3.gguf");
  EXPECT_THAT(LoadModel(*file, {}),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("phi3.gguf"), HasSubstr("'phi3'"),
                             HasSubstr("kvlab runs gemma3, llama, qwen2"))));
  EXPECT_THAT(ReadModelInfo(*file), StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("phi3")));
}

TEST(Gemma3ModelTest, MissingKeyNamesFileAndKey) {
  for (const std::string key : {"gemma3.block_count", "gemma3.attention.layer_norm_rms_epsilon",
                                "gemma3.attention.head_count"}) {
    TinyGemma3Options options;
    options.omit_key = key;
    auto file = OpenTiny(options, "missing.gguf");
    EXPECT_THAT(LoadModel(*file, {}), StatusIs(absl::StatusCode::kNotFound,
                                               AllOf(HasSubstr("missing.gguf"), HasSubstr(key))))
        << key;
  }
}

// The pattern may also be one bool per layer; then it must have one per layer.
TEST(Gemma3ModelTest, ReadsAPerLayerPattern) {
  TinyGemma3Options options;
  options.pattern_per_layer = {false, true, true, false};
  auto file = OpenTiny(options, "per_layer.gguf");
  ASSERT_OK_AND_ASSIGN(auto model, Gemma3Model::Load(*file, {}));
  EXPECT_THAT(model->info().attention.sliding_window, ElementsAre(0, 8, 8, 0));
  options.pattern_per_layer = {true, false};
  auto short_file = OpenTiny(options, "short_pattern.gguf");
  EXPECT_THAT(Gemma3Model::Load(*short_file, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("short_pattern.gguf"),
                             HasSubstr("sliding_window_pattern has 2 entries for 4 layers"))));
}

TEST(Gemma3ModelTest, RejectsInconsistentMetadata) {
  TinyGemma3Options options;
  options.q_heads = 3;
  options.kv_heads = 2;
  auto file = OpenTiny(options, "heads.gguf");
  EXPECT_THAT(LoadModel(*file, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("heads.gguf"), HasSubstr("head_count_kv=2"))));
}

}  // namespace
}  // namespace kvlab::model

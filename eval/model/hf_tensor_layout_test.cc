#include "eval/model/hf_tensor_layout.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

TEST(HfTensorLayoutTest, PermutationPairsRotateHalfDimsAsInterleavedOnes) {
  // Two heads of dim 4, one column: rows [a0 a1 | a2 a3] per head, where (a0, a2) and
  // (a1, a3) are rotate-half pairs, become [a0 a2 a1 a3].
  const at::Tensor rows = at::arange(8, at::kFloat).view({8, 1});
  const at::Tensor permuted = PermuteToInterleavedRope(rows, 2);
  EXPECT_TRUE(at::equal(permuted.view({8}),
                        at::tensor(std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7})));
  EXPECT_TRUE(at::equal(PermuteToHalfRope(permuted, 2), rows));
  // A bias (one dim) permutes the same way.
  EXPECT_TRUE(at::equal(PermuteToInterleavedRope(rows.view({8}), 2), permuted.view({8})));
}

TEST(HfTensorLayoutTest, NamesFollowTransformers) {
  LlamaConfig llama;
  llama.q_heads = 2;
  llama.kv_heads = 1;
  const HfTensorLayout l = LlamaHfLayout(llama);
  EXPECT_EQ(l.hf_name("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(l.hf_name("output.weight"), "lm_head.weight");
  EXPECT_EQ(l.hf_name("blk.12.ffn_norm.weight"), "model.layers.12.post_attention_layernorm.weight");
  EXPECT_EQ(l.hf_name("blk.0.attn_q.bias"), "model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(l.hf_name("blk.0.post_ffw_norm.weight"), "");
  EXPECT_EQ(l.hf_name("blk.x.attn_q.weight"), "");
  const HfTensorLayout g = Gemma3HfLayout(Gemma3Config{});
  EXPECT_EQ(g.hf_name("blk.3.ffn_norm.weight"), "model.layers.3.pre_feedforward_layernorm.weight");
  EXPECT_EQ(g.hf_name("blk.3.post_attention_norm.weight"),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(g.hf_name("blk.3.post_ffw_norm.weight"),
            "model.layers.3.post_feedforward_layernorm.weight");
  EXPECT_EQ(g.hf_name("blk.3.attn_k_norm.weight"), "model.layers.3.self_attn.k_norm.weight");
  // Gemma's norms gain their 1; projections are as stored.
  const at::Tensor w = at::full({4}, 0.25f);
  EXPECT_TRUE(at::equal(g.convert("blk.0.attn_norm.weight", w.clone()), at::full({4}, 1.25f)));
  EXPECT_TRUE(at::equal(g.convert("blk.0.attn_q.weight", w.clone()), w));
}

}  // namespace
}  // namespace kvlab::model

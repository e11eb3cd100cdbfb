#!/usr/bin/env python3
"""Writes tiny random models whose RoPE is scaled, with transformers itself, to hold
kvlab's rope scaling to transformers' (compare_with_transformers.py):

    python3 make_tiny_scaled_models.py OUT_DIR
    bazel run //eval/model:logits -- --model=OUT_DIR/llama3 --tokens=IDS --out=/tmp/k.f32
    python3 compare_with_transformers.py OUT_DIR/llama3 IDS /tmp/k.f32

OUT_DIR/llama3: LlamaForCausalLM with Llama 3.1's rope_scaling (factor 8, low and high
frequency factors 1 and 4) over an original context of 64 positions, so that a few
hundred tokens cross every regime (kept, blended, divided). OUT_DIR/gemma3_linear:
Gemma3ForCausalLM with linear scaling (factor 8) of its global layers. Weights are
random (seeded), F32 safetensors. Needs PyPI's torch and transformers (measured with
2.11.0 and 5.2.0).
"""
import os
import sys

import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    llama = LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, rope_theta=10000.0,
        max_position_embeddings=4096, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    gemma = Gemma3TextConfig(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, sliding_window=16,
        layer_types=["sliding_attention", "full_attention"] * 2, query_pre_attn_scalar=32,
        max_position_embeddings=4096, rope_theta=10000.0, rope_local_base_freq=1000.0,
        rope_scaling={"rope_type": "linear", "factor": 8.0})
    for name, model in (("llama3", LlamaForCausalLM(llama)),
                        ("gemma3_linear", Gemma3ForCausalLM(gemma))):
        with torch.no_grad():  # Larger weights than the initializer's, so logits spread.
            for p in model.parameters():
                p.normal_(0.0, 0.2)
        model.save_pretrained(os.path.join(out, name), safe_serialization=True)
        print(os.path.join(out, name))


if __name__ == "__main__":
    main()

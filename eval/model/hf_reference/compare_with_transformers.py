#!/usr/bin/env python3
"""Compares kvlab's logits for a Hugging Face model directory with transformers' own.

    bazel run //eval/model:logits -- --model=DIR --tokens=IDS --out=/tmp/kvlab.f32
    python3 compare_with_transformers.py DIR IDS /tmp/kvlab.f32

DIR is a model directory (config.json + safetensors; gguf_to_hf writes one from a GGUF
file), IDS the same comma-separated token ids. Loads the model with
AutoModelForCausalLM in float32 with eager attention (whose sliding-window masks are
the plain definition) and prints max |kvlab - transformers| / max |transformers| over
every logit. Needs PyPI's torch and transformers (measured with 2.11.0 and 5.2.0).
"""
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM


def main():
    directory, ids, kvlab_path = sys.argv[1], sys.argv[2], sys.argv[3]
    tokens = [int(t) for t in ids.split(",")]
    model = AutoModelForCausalLM.from_pretrained(
        directory, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        reference = model(torch.tensor([tokens])).logits[0].float().numpy()
    ours = np.fromfile(kvlab_path, dtype=np.float32).reshape(reference.shape)
    error = np.abs(ours - reference).max() / np.abs(reference).max()
    print(f"{directory}: {type(model).__name__}, transformers {transformers.__version__}, "
          f"{len(tokens)} tokens: max |kvlab - transformers| / max |transformers| = {error:.3g}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes reference_blocks.json: random blocks of each quantized ggml type kvlab reads,
with the values PyPI's `gguf` package (ggml's own Python dequantizers) decodes them to.

Run once, in a virtual environment with `pip install gguf==0.19.0 numpy`:

    python3 eval/gguf/testdata/make_reference_blocks.py > eval/gguf/testdata/reference_blocks.json

The blocks are random bytes except their fp16 scale fields, which are set to finite
random values so that every element is finite and every bit pattern of the packed
codes and scales is exercised.
"""
import importlib.metadata
import json
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGML_QUANT_SIZES, quants

# Byte offsets of each type's fp16 fields (d, and dmin or m where it has one).
HALF_FIELDS = {
    T.Q8_0: [0],
    T.Q4_0: [0],
    T.Q4_1: [0, 2],
    T.Q5_0: [0],
    T.Q5_1: [0, 2],
    T.Q2_K: [80, 82],
    T.Q3_K: [108],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}
BLOCKS_PER_TYPE = 3


def main():
    rng = np.random.default_rng(20261130)
    cases = []
    for qtype, half_offsets in HALF_FIELDS.items():
        block_elements, block_bytes = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=(BLOCKS_PER_TYPE, block_bytes), dtype=np.uint8)
        for offset in half_offsets:
            halves = rng.uniform(-0.05, 0.05, size=BLOCKS_PER_TYPE).astype(np.float16)
            raw[:, offset:offset + 2] = halves.view(np.uint8).reshape(BLOCKS_PER_TYPE, 2)
        values = quants.dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
        assert values.size == BLOCKS_PER_TYPE * block_elements
        assert np.all(np.isfinite(values))
        cases.append({
            "type": qtype.name,
            "type_id": int(qtype),
            "bytes_hex": raw.tobytes().hex(),
            # float(np.float32) is exact; its repr reads back to the same float32.
            "values": [float(v) for v in values],
        })
    json.dump({"generator": "gguf " + importlib.metadata.version("gguf"), "cases": cases},
              sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

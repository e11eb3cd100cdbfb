#!/usr/bin/env python3
"""kvpress's presses on kvlab's compress_once windows.

Runs the same protocol as kvlab's `compress_once`
(experiments/configs/eviction_compress_once.pbtxt, eval/perplexity/perplexity.cc) with
the presses of NVIDIA's kvpress, on the same GGUF loaded through transformers in fp32
and on kvlab's own token ids, so that the two perplexities can be set side by side:

  for each window of L + M consecutive tokens (L = 2048, M = 256, 4 windows):
    1. the L context tokens run in one forward with the press active: each layer's
       cache is compressed right after its attention, to `budget` tokens per layer and
       KV head; the last context position's logits (computed before any compression,
       as in kvlab) predict the first scored token;
    2. with no press active, tokens L .. L + M - 2 are fed at their original positions
       (L .. L + M - 2) through the compressed cache, which grows by them; their logits
       predict tokens L + 1 .. L + M - 1.
  M predictions per window are scored.

kvpress and transformers are not kvlab's dependencies: install them in a virtual
environment outside the repository (docs/kvpress.md says how and which versions).

Usage (the ids from kvlab's tokenizer, so both sides see the same tokens):

  bazel run //eval/tokenizer:tokenize -- \
      --file=../shared/data/wikitext-2-raw/wiki.test.raw > /tmp/wiki_test_ids.txt
  OMP_NUM_THREADS=2 nice -n 10 /work/ref/kvpress-venv/bin/python \
      experiments/kvpress/kvpress_compare.py --ids=/tmp/wiki_test_ids.txt \
      --output=docs/results/kvpress_compare/kvpress.json
"""

import argparse
import contextlib
import importlib.metadata
import inspect
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass
class Setting:
    """One press configuration: a kvpress class and the arguments it gets beside the ratio."""

    name: str
    press: Optional[str]  # kvpress class name; None for the dense cache.
    params: dict
    # The press reads the attention weights, which only transformers' eager attention
    # returns (ObservedAttentionPress asserts it); the others run with SDPA.
    eager: bool = False
    # A press that wraps another (AdaKVPress): the inner press's class and arguments;
    # the ratio goes to the inner one.
    inner: Optional[str] = None
    inner_params: Optional[dict] = None
    # Whether the press takes the budget as its compression_ratio. ThinKPress prunes key
    # channels, not tokens: it is built from its arguments alone and keeps every token.
    takes_ratio: bool = True
    # Presses run after this one on what it kept, as kvpress's ComposedPress chains
    # them: (class name, arguments) pairs, none of which takes the ratio.
    then: Optional[list] = None


# kvlab's definitions where kvpress has a parameter for them (docs/methods.md): SnapKV's
# observation window 32 and pooling kernel 7 (kvpress pools by average only); 4 sinks.
# And kvpress's own defaults (SnapKVPress: window 64, kernel 5; StreamingLLMPress: 4
# sinks, already kvlab's).
SETTINGS = [
    Setting("snapkv-w32-k7", "SnapKVPress", {"window_size": 32, "kernel_size": 7}),
    Setting("snapkv-default", "SnapKVPress", {}),
    Setting("streamingllm-sink4", "StreamingLLMPress", {"n_sink": 4}),
    # kvlab's keydiff, lagkv and expected_attention take kvpress's defaults; h2o with
    # QUERY_MEAN and no recent window is ObservedAttentionPress.
    Setting("keydiff", "KeyDiffPress", {}),
    Setting("lagkv", "LagKVPress", {}),
    Setting("expected_attention", "ExpectedAttentionPress", {}),
    Setting("observed_attention", "ObservedAttentionPress", {}, eager=True),
    Setting("tova", "TOVAPress", {}),
    # AdaKV's allocation over SnapKV (kvlab: snapkv window 32, kernel 7, AVERAGE, with
    # head_allocation ADAKV) and over TOVA (kvlab: tova keep_last_token, ADAKV).
    # AdaKVPress masks the pruned tokens: its cache keeps the whole prefill.
    Setting("adakv-snapkv-w32-k7", "AdaKVPress", {"alpha_safeguard": 0.2},
            inner="SnapKVPress", inner_params={"window_size": 32, "kernel_size": 7}),
    Setting("adakv-tova", "AdaKVPress", {"alpha_safeguard": 0.2}, inner="TOVAPress",
            inner_params={}),
    # ThinK's key channel pruning (kvlab: key_channels { pruned_fraction: 0.5
    # recent_tokens: 0 }), alone (every prefill token kept, whatever --budgets says)
    # and after SnapKV (window 32, kernel 7) at the budget.
    Setting("think-0.5", "ThinKPress", {"key_channel_compression_ratio": 0.5, "window_size": 32},
            takes_ratio=False),
    Setting("snapkv-w32-k7-think-0.5", "SnapKVPress", {"window_size": 32, "kernel_size": 7},
            then=[("ThinKPress", {"key_channel_compression_ratio": 0.5, "window_size": 32})]),
    # KnormPress compresses every layer (kvlab: knorm { uncompressed_layers {} }).
    Setting("knorm", "KnormPress", {}),
    # PyramidKVPress at kvlab's SnapKV window and kernel (kvlab: snapkv window 32, kernel
    # 7, AVERAGE, with allocation PYRAMIDKV).
    Setting("pyramidkv-w32-k7", "PyramidKVPress", {"window_size": 32, "kernel_size": 7}),
    # One seed of RandomPress: its draws cannot be kvlab's, so only the spread compares.
    Setting("random-seed0", "RandomPress", {"seed": 0}),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf",
                   help="GGUF file, loaded through transformers (gguf_file=) in fp32")
    p.add_argument("--ids", required=True,
                   help="token ids of the text as //eval/tokenizer:tokenize prints them")
    p.add_argument("--context_tokens", type=int, default=2048, help="L")
    p.add_argument("--scored_tokens", type=int, default=256, help="M")
    p.add_argument("--max_windows", type=int, default=4)
    p.add_argument("--budgets", type=int, nargs="+", default=[128, 256, 512],
                   help="tokens kept per layer and KV head after the prefill")
    p.add_argument("--settings", nargs="*", default=[s.name for s in SETTINGS],
                   choices=[s.name for s in SETTINGS], help="press settings to run")
    p.add_argument("--bos_id", type=int, default=-1,
                   help="replace each window's first token by this id (kvlab's BOS_AUTO: "
                        "only for a model whose GGUF adds BOS; SmolLM2 does not)")
    p.add_argument("--stepwise", action="store_true",
                   help="decode the scored tokens one forward each instead of one forward "
                        "for all (the same numbers; a check of the causal mask)")
    p.add_argument("--skip_dense", action="store_true",
                   help="leave out the dense run (its perplexity is in an earlier output)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", default="", help="JSON file to write the results to")
    return p.parse_args(argv)


def fail(message):
    print(f"kvpress_compare: {message}", file=sys.stderr)
    sys.exit(1)


def read_ids(path):
    try:
        ids = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        fail(f"{path}: expected token ids as '[1, 2, ...]' (//eval/tokenizer:tokenize): {e}")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        fail(f"{path}: expected a list of integer token ids")
    return ids


def load_model(path, torch, transformers):
    gguf = Path(path)
    if not gguf.is_file():
        fail(f"{path}: no such GGUF file")
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.resolve().parent), gguf_file=gguf.resolve().name, dtype=torch.float32,
            attn_implementation="sdpa")
    except Exception as e:  # transformers raises many kinds for a file it cannot read.
        fail(f"{path}: transformers could not load it as a GGUF model: {e}")
    model.eval()
    return model


def make_press(setting, budget, context_tokens, kvpress):
    """The press for `setting` keeping exactly `budget` of `context_tokens` per head."""
    if setting.press is None:
        return None
    if not setting.takes_ratio:
        return getattr(kvpress, setting.press)(**setting.params)
    # kvpress keeps int(k_len * (1 - ratio)) tokens (kvpress.utils.compute_n_kept);
    # check that the ratio gives the budget exactly rather than trusting float rounding.
    ratio = 1.0 - budget / context_tokens
    kept = kvpress.utils.compute_n_kept(context_tokens, ratio)
    if kept != budget:
        fail(f"compression_ratio {ratio!r} keeps {kept} of {context_tokens} tokens, not {budget}")
    if setting.inner is not None:
        inner = getattr(kvpress, setting.inner)(compression_ratio=ratio, **setting.inner_params)
        return getattr(kvpress, setting.press)(press=inner, **setting.params)
    press = getattr(kvpress, setting.press)(compression_ratio=ratio, **setting.params)
    if setting.then:
        press = kvpress.ComposedPress(
            [press] + [getattr(kvpress, name)(**params) for name, params in setting.then])
    return press


def with_layer_rope(press, model, torch):
    """`press`, made to pass each layer's own RoPE type to the rotary embedding where the
    model's embedding needs one. kvpress 0.5.5's ExpectedAttentionPress calls
    `module.rotary_emb(x, positions)`, which transformers 5.2's Gemma 3 embedding refuses
    without a layer type; each layer is given its own (a global layer its global RoPE),
    which is what the press means to average. Other presses and models: unchanged."""
    layer_types = getattr(model.config, "layer_types", None)
    press_class = type(press)
    # Only an embedding that takes a layer type needs one (Qwen2's config lists layer
    # types too, but its embedding has a single RoPE).
    rope = getattr(getattr(model, "model", model), "rotary_emb", None)
    takes_type = rope is not None and "layer_type" in inspect.signature(rope.forward).parameters
    if layer_types is None or not takes_type or not hasattr(press_class, "apply_avg_rope"):
        return press

    class Typed(torch.nn.Module):
        def __init__(self, rope, layer_type):
            super().__init__()
            self.rope, self.layer_type = rope, layer_type

        def forward(self, x, positions):
            return self.rope(x, positions, self.layer_type)

    class LayerRope(press_class):
        def apply_avg_rope(self, module, mu, cov, q_len):
            rope = module.rotary_emb
            module.rotary_emb = Typed(rope, layer_types[module.layer_idx])
            try:
                return super().apply_avg_rope(module, mu, cov, q_len)
            finally:
                module.rotary_emb = rope

    press.__class__ = LayerRope
    return press


def score_window(model, span, context_tokens, setting, press, budget, stepwise, torch,
                 transformers):
    """Sum of NLLs of span[L:] and their count, with `press` active during the prefill."""
    L = context_tokens
    ids = torch.tensor([span], dtype=torch.long)
    cache = transformers.DynamicCache()
    with torch.inference_mode():
        with press(model) if press is not None else contextlib.nullcontext():
            out = model(input_ids=ids[:, :L], past_key_values=cache, logits_to_keep=1)
        # A masking press (AdaKVPress) keeps every token and masks the pruned ones; a
        # channel press (ThinKPress) keeps every token.
        keeps_all = press is None or setting.inner is not None or not setting.takes_ratio
        expected = L if keeps_all else budget
        lengths = {layer.keys.shape[2] for layer in cache.layers}
        if lengths != {expected}:
            fail(f"after the prefill the cache holds {sorted(lengths)} tokens per layer, "
                 f"expected {expected}")
        logits = [out.logits[0, -1:]]
        feed = ids[:, L:-1]
        positions = torch.arange(L, len(span) - 1).unsqueeze(0)
        if stepwise:
            for i in range(feed.shape[1]):
                step = model(input_ids=feed[:, i:i + 1], past_key_values=cache,
                             position_ids=positions[:, i:i + 1])
                logits.append(step.logits[0])
        else:
            # The cache's own slot indices (cache_position, by default its length onwards)
            # build the causal mask; position_ids give RoPE the original positions.
            step = model(input_ids=feed, past_key_values=cache, position_ids=positions)
            logits.append(step.logits[0])
        logits = torch.cat(logits, dim=0)
        targets = ids[0, L:]
        assert logits.shape[0] == targets.shape[0] == len(span) - L
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        nll = -logprobs.gather(1, targets.unsqueeze(1)).squeeze(1).double()
    return nll.sum().item(), (nll * nll).sum().item(), nll.numel()


def main(argv):
    args = parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")  # The GGUF conversion's progress bar.
    import torch
    import transformers
    import kvpress
    import kvpress.utils

    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    ids = read_ids(args.ids)
    window = args.context_tokens + args.scored_tokens
    windows = len(ids) // window
    if args.max_windows > 0:
        windows = min(windows, args.max_windows)
    if windows == 0:
        fail(f"{args.ids}: {len(ids)} tokens, fewer than one window of {window}")
    for b in args.budgets:
        if not 0 < b < args.context_tokens:
            fail(f"--budgets: {b} is not between 0 and --context_tokens {args.context_tokens}")
    spans = []
    for w in range(windows):
        span = ids[w * window:(w + 1) * window]
        if args.bos_id >= 0:
            span[0] = args.bos_id
        spans.append(span)

    model = load_model(args.model, torch, transformers)
    runs = [] if args.skip_dense else [("dense", Setting("dense", None, {}), None)]
    for s in SETTINGS:
        if s.name in args.settings:
            runs += [(f"{s.name}-b{b}", s, b) for b in args.budgets]

    results = []
    for name, setting, budget in runs:
        start = time.time()
        model.set_attn_implementation("eager" if setting.eager else "sdpa")
        nll_sum = nll_sq = 0.0
        count = 0
        per_window = []
        for span in spans:
            press = make_press(setting, budget, args.context_tokens, kvpress)
            if press is not None:
                press = with_layer_rope(press, model, torch)
            s, sq, n = score_window(model, span, args.context_tokens, setting, press, budget,
                                    args.stepwise, torch, transformers)
            nll_sum, nll_sq, count = nll_sum + s, nll_sq + sq, count + n
            per_window.append(math.exp(s / n))
        mean = nll_sum / count
        # llama-perplexity's (and kvlab's) error: perplexity x standard error of the mean NLL.
        stderr = math.exp(mean) * math.sqrt(max(nll_sq / count - mean * mean, 0.0) / (count - 1))
        record = {
            "name": name,
            "press": setting.press,
            "params": setting.params,
            "inner_press": setting.inner,
            "inner_params": setting.inner_params,
            "attention": "eager" if setting.eager else "sdpa",
            "budget": budget,
            "compression_ratio": None if budget is None else 1.0 - budget / args.context_tokens,
            "perplexity": math.exp(mean),
            "perplexity_stderr": stderr,
            "nll_sum": nll_sum,
            "tokens_scored": count,
            "perplexity_per_window": per_window,
            "seconds": time.time() - start,
        }
        results.append(record)
        print(f"{name:28s} ppl {record['perplexity']:9.4f} ± {stderr:.4f}  "
              f"({count} tokens, {record['seconds']:.0f} s)", flush=True)

    if args.output:
        out = {
            "protocol": {"context_tokens": args.context_tokens,
                         "scored_tokens": args.scored_tokens, "windows": windows,
                         "bos_id": args.bos_id, "stepwise": args.stepwise},
            "model": Path(args.model).name,
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "kvpress": importlib.metadata.version("kvpress")},
            "runs": results,
        }
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(out, indent=1) + "\n")
        tmp.replace(path)


if __name__ == "__main__":
    main(sys.argv[1:])

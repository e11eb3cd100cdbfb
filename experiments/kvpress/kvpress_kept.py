#!/usr/bin/env python3
"""Which tokens kvpress's presses keep, set against what kvlab's policies kept.

A perplexity agreeing to 0.001% (kvpress_compare.py) says two implementations keep
nearly the same tokens; this says whether they keep exactly the same ones. One context
of L tokens of kvlab's ids (the first compress_once window: BOS in place of its first
token where the model adds BOS) runs through the model, loaded by transformers from the
GGUF in fp32, with each press active; the tokens the press's scores rank within the
budget are recorded for every layer whose cache then holds all L tokens, and compared,
layer by layer, with the `kept_positions` of a kvlab run's evictions file
(`record_evictions: true`, experiments/eviction_record.h) over the same window.

The hidden states of a prefill do not depend on what earlier layers keep (a press
compresses a layer's cache after its attention), so each layer's kept set can be
compared on its own, whatever either side does with the layers it does not evict:
kvpress compresses every layer of Gemma3ForCausalLM by the ratio, sliding-window layers
included, where kvlab's token budget leaves a 512-token window untouched.

On Gemma 3, ExpectedAttentionPress is given each layer's own RoPE type
(kvpress_compare.with_layer_rope).

Usage (kvlab's side first):

  bazel run //experiments:run -- --config=experiments/configs/gemma3_kvpress_kept.pbtxt
  bazel run //eval/tokenizer:tokenize -- --add_bos \
      --model=third_party/models/gemma-3-270m-q4_k_m.gguf \
      --file=../shared/data/wikitext-2-raw/wiki.test.raw > /tmp/gemma3_ids.txt
  OMP_NUM_THREADS=2 /path/to/venv/bin/python experiments/kvpress/kvpress_kept.py \
      --model=third_party/models/gemma-3-270m-q4_k_m.gguf --ids=/tmp/gemma3_ids.txt \
      --bos_id=2 --context_tokens=4096 --budget=3072 \
      --compare expected_attention=$R/expected_attention-b3072.evictions.json \
                snapkv-default=$R/snapkv-w64-k5-avg-b3072.evictions.json

with R=docs/results/gemma3_kvpress_kept/runs.

Exits non-zero when any layer's sets differ.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kvpress_compare import (SETTINGS, fail, load_model, make_press, read_ids,  # noqa: E402
                             with_layer_rope)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="GGUF file, loaded through transformers")
    p.add_argument("--ids", required=True,
                   help="token ids of the text as //eval/tokenizer:tokenize prints them")
    p.add_argument("--bos_id", type=int, default=-1,
                   help="put this id in place of the window's first token (kvlab's BOS_AUTO "
                        "for a model that adds BOS)")
    p.add_argument("--context_tokens", type=int, required=True, help="L")
    p.add_argument("--budget", type=int, required=True, help="tokens kept per layer and head")
    p.add_argument("--compare", nargs="+", required=True, metavar="SETTING=EVICTIONS_JSON",
                   help="a kvpress_compare.py setting and the kvlab evictions file to set it "
                        "against")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def kvlab_kept(path):
    """Per layer, the kept positions of each KV head in a kvlab evictions file's first
    sequence; only layers that evicted."""
    try:
        record = json.loads(Path(path).read_text())
        layers = record["sequences"][0]["layers"]
        return {int(layer["layer"]): [sorted(head) for head in layer["kept_positions"]]
                for layer in layers if layer.get("evictions", 0) > 0}
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        fail(f"{path}: expected a kvlab evictions file (runs/<name>.evictions.json): {e}")


def kvpress_kept(model, span, press, budget, torch, transformers):
    """Per layer whose cache holds the whole span, each KV head's top-`budget` positions
    by the press's scores, and the scores."""
    kept = {}
    score = press.score

    def recording_score(module, hidden_states, keys, values, attentions, kwargs):
        scores = score(module, hidden_states, keys, values, attentions, kwargs)
        if keys.shape[2] == len(span):
            kept[module.layer_idx] = [(sorted(head.topk(budget).indices.tolist()),
                                       head.double().tolist()) for head in scores[0]]
        return scores

    press.score = recording_score
    with torch.inference_mode(), press(model):
        model(input_ids=torch.tensor([span]), past_key_values=transformers.DynamicCache(),
              logits_to_keep=1)
    return kept


def main(argv):
    args = parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch
    import transformers
    import kvpress
    import kvpress.utils

    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    settings = {s.name: s for s in SETTINGS}
    pairs = []
    for item in args.compare:
        name, _, path = item.partition("=")
        if name not in settings or not path:
            fail(f"--compare: expected SETTING=EVICTIONS_JSON with SETTING one of "
                 f"{', '.join(settings)}, got '{item}'")
        pairs.append((settings[name], kvlab_kept(path), path))
    ids = read_ids(args.ids)
    if len(ids) < args.context_tokens:
        fail(f"{args.ids}: {len(ids)} tokens, fewer than --context_tokens {args.context_tokens}")
    span = ids[:args.context_tokens]
    if args.bos_id >= 0:
        span[0] = args.bos_id
    model = load_model(args.model, torch, transformers)
    differing = 0
    for setting, theirs, path in pairs:
        press = with_layer_rope(make_press(setting, args.budget, args.context_tokens, kvpress),
                                model, torch)
        ours = kvpress_kept(model, span, press, args.budget, torch, transformers)
        for layer, kvlab_heads in sorted(theirs.items()):
            if layer not in ours:
                fail(f"{path}: layer {layer} evicted in kvlab, but kvpress's cache there does "
                     f"not hold the {args.context_tokens} tokens")
            for head, (a, (b, scores)) in enumerate(zip(kvlab_heads, ours[layer])):
                common = len(set(a) & set(b))
                same = a == b
                differing += not same
                print(f"{setting.name} layer {layer} head {head}: kvlab keeps {len(a)}, "
                      f"kvpress {len(b)}, {common} in common{'' if same else '  DIFFERENT'}")
                if not same:
                    # Where the two part: kvpress's scores of the tokens only one keeps.
                    for side, only in (("kvlab", set(a) - set(b)), ("kvpress", set(b) - set(a))):
                        shown = ", ".join(f"{p} ({scores[p]:.9g})" for p in sorted(only))
                        print(f"  only {side} keeps: {shown} (kvpress's scores)")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

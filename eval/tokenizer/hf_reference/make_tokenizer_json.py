#!/usr/bin/env python3
"""Writes the tokenizer of a GGUF model as a Hugging Face model directory would hold it:
tokenizer.json (built and saved by the `tokenizers` library itself) and
tokenizer_config.json, laid out as the model family's published files are:

  GGUF `gpt2` (byte-level BPE)   BPE over the GGUF's tokens and merges; pre-tokenizer by
                                 `tokenizer.ggml.pre`: smollm -> Digits(individual) +
                                 ByteLevel (SmolLM2's file), gpt2/default -> ByteLevel,
                                 llama-bpe -> Split(Llama 3's regex) + ByteLevel,
                                 qwen2 -> NFC, Split(Qwen2's regex) + ByteLevel.
  GGUF `llama` (SentencePiece)   BPE with byte_fallback, merges made from the tokens and
                                 scores by transformers' own SentencePiece converter
                                 (generate_merges), spaces as U+2581 by a Replace
                                 normalizer: with Prepend when add_space_prefix, as
                                 Llama 2's file is; otherwise with a Split at " "
                                 (merged with the previous piece) after it, as
                                 transformers' GemmaConverter writes Gemma's.

Control tokens (type 3) become special added tokens, user-defined ones (type 4) plain
added tokens, both matched in raw text; BOS is added by the post-processor when the GGUF
says add_bos_token.

Run in a virtual environment with PyPI's gguf (0.19.0), tokenizers (0.22.2) and
transformers (5.2.0); it writes two files (SmolLM2's is ~3.5 MB, Gemma 3's ~35 MB), so
keep OUT_DIR outside the repository:

    python3 make_tokenizer_json.py third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2

--pre=NAME replaces a byte-level GGUF's `tokenizer.ggml.pre` (llama-bpe or qwen2 on
SmolLM2's vocabulary exercises Llama 3's and Qwen2's Split regexes on real text).
"""
import json
import os
import sys

import gguf
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors)
from transformers.convert_slow_tokenizer import generate_merges

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]][0].item()


def main(gguf_path, out_dir, pre_override=None):
    reader = gguf.GGUFReader(gguf_path)
    kind = field(reader, "tokenizer.ggml.model")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type", [1] * len(tokens))
    bos = field(reader, "tokenizer.ggml.bos_token_id")
    eos = field(reader, "tokenizer.ggml.eos_token_id")
    unk = field(reader, "tokenizer.ggml.unknown_token_id")
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == len(tokens), "the GGUF repeats a token"

    if kind == "gpt2":
        add_bos = bool(field(reader, "tokenizer.ggml.add_bos_token", False))
        merges = [tuple(m.split(" ")) for m in field(reader, "tokenizer.ggml.merges")]
        tok = Tokenizer(models.BPE(vocab, merges))
        pre = pre_override or field(reader, "tokenizer.ggml.pre", "gpt2")
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        if pre == "smollm":
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.Digits(individual_digits=True), byte_level])
        elif pre in ("gpt2", "default"):
            tok.pre_tokenizer = byte_level
        elif pre in ("llama-bpe", "qwen2"):
            regex = LLAMA3_REGEX if pre == "llama-bpe" else QWEN2_REGEX
            if pre == "qwen2":
                tok.normalizer = normalizers.NFC()
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        else:
            sys.exit(f"{gguf_path}: pre-tokenizer '{pre}' has no tokenizer.json layout here")
        tok.decoder = decoders.ByteLevel()
    elif kind == "llama":
        add_bos = bool(field(reader, "tokenizer.ggml.add_bos_token", True))
        scores = field(reader, "tokenizer.ggml.scores")
        # Only normal tokens merge, as SentencePiece's BPE only builds normal pieces.
        skip = {t for t, ty in zip(tokens, types) if ty != 1}
        merges = generate_merges(vocab, list(zip(tokens, scores)), skip_tokens=skip)
        tok = Tokenizer(models.BPE(vocab, merges, unk_token=tokens[unk] if unk is not None else None,
                                   fuse_unk=True, byte_fallback=True))
        steps = [normalizers.Replace(" ", "\u2581")]
        if field(reader, "tokenizer.ggml.add_space_prefix", True):
            steps.insert(0, normalizers.Prepend("\u2581"))
        tok.normalizer = steps[0] if len(steps) == 1 else normalizers.Sequence(steps)
        if len(steps) == 1:
            tok.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")
        tok.decoder = decoders.Sequence(
            [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()] +
            ([decoders.Strip(" ", 1, 0)] if len(steps) == 2 else []))
    else:
        sys.exit(f"{gguf_path}: tokenizer.ggml.model '{kind}' is not handled")

    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == 3])
    tok.add_tokens([AddedToken(t, special=False, normalized=False)
                    for t, ty in zip(tokens, types) if ty == 4])
    if add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{tokens[bos]} $A", pair=f"{tokens[bos]} $A {tokens[bos]} $B",
            special_tokens=[(tokens[bos], bos)])
    elif kind == "gpt2":
        tok.post_processor = processors.ByteLevel(trim_offsets=False)

    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    config = {"add_bos_token": add_bos}
    if bos is not None:
        config["bos_token"] = tokens[bos]
    if eos is not None:
        config["eos_token"] = tokens[eos]
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    pre = [a[len("--pre="):] for a in sys.argv[1:] if a.startswith("--pre=")]
    args = [a for a in sys.argv[1:] if not a.startswith("--pre=")]
    if len(args) != 2:
        sys.exit("usage: make_tokenizer_json.py MODEL.gguf OUT_DIR [--pre=NAME]")
    main(args[0], args[1], pre[0] if pre else None)

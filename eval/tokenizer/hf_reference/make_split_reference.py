#!/usr/bin/env python3
"""Writes split_reference.json: how Hugging Face's `tokenizers` (Oniguruma regexes, Rust's
Unicode tables) splits and normalizes a set of awkward texts, for hf_pre_tokenizer_test
and hf_normalizer_test to hold kvlab's reading of the same tokenizer.json steps to.

Run once, in a virtual environment with PyPI's tokenizers (0.22.2):

    python3 eval/tokenizer/hf_reference/make_split_reference.py \\
        > eval/tokenizer/hf_reference/split_reference.json
"""
import importlib.metadata
import json

from tokenizers import Regex, normalizers, pre_tokenizers

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
         r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXTS = [
    "Hello world, it's 2024!",
    "THEY'LL SAY IT'S FINE; We'Re sure, don'T",
    "1234567 89 0.5 1,000,000",
    "\u0661\u0662\u0663\u0664 \u00bd \u2163 \u00b2",  # Arabic-Indic digits, 1/2, Roman four, superscript 2
    "a\r\nb\r\n\r\nc\n\n\nd",
    "  leading   and trailing  ",
    "tabs\t\tand\u000bvertical\u000cfeed\u0085next",
    "nbsp\u00a0here\u2028line\u2029para\u3000ideographic\u2009thin",
    "...!!!\n\n??? ---> <tag> (x) [y] {z}",
    "e\u0301 n\u0303 \u00e9 Ka\u0308se",
    "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0 \ud55c\uad6d\uc5b4 \u0420\u0443\u0441\u0441\u043a\u0438\u0439",
    "emoji \U0001F600\U0001F680 \U0001F468\u200d\U0001F469\u200d\U0001F467 done",
    "\u017fs \u212a 'S '\u017f",
    " = Valkyria Chronicles III = \n \n Senj\u014d no Valkyria 3 : Unrecorded Chronicles @-@ 1 @,@ 000",
    "x\n \n y  \n\tz",
]


BEHAVIORS = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]


def words(pre, text):
    return [w for w, _ in pre.pre_tokenize_str(text)]


def split(regex, text):
    return words(pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False), text)


def behaviors(pattern, text):
    """The words of `text` split at `pattern` under every behavior, inverted and not."""
    return {f"{behavior}{'_invert' if invert else ''}":
            words(pre_tokenizers.Split(pattern, behavior=behavior, invert=invert), text)
            for behavior in BEHAVIORS for invert in (False, True)}


def main():
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    digits = pre_tokenizers.Digits(individual_digits=True)
    cases = []
    for text in TEXTS:
        cases.append({
            "text": text,
            "gpt2": split(GPT2, text),
            "llama3": split(LLAMA3, text),
            "qwen2": split(QWEN2, text),
            "byte_level": [w for w, _ in byte_level.pre_tokenize_str(text)],
            "digits": [w for w, _ in digits.pre_tokenize_str(text)],
            "digits_contiguous": words(pre_tokenizers.Digits(individual_digits=False), text),
            "split_space": behaviors(" ", text),
            "split_llama3": behaviors(Regex(LLAMA3), text),
            "metaspace": {
                f"{scheme}{'' if split else '_unsplit'}": words(
                    pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=scheme,
                                             split=split), text)
                for scheme in ("always", "first", "never") for split in (True, False)},
            "nfc": normalizers.NFC().normalize_str(text),
            "nfd": normalizers.NFD().normalize_str(text),
            "nfkd": normalizers.NFKD().normalize_str(text),
            "prepend_replace": normalizers.Sequence([
                normalizers.Prepend("\u2581"),
                normalizers.Replace(" ", "\u2581")]).normalize_str(text),
            "replace_twice": normalizers.Sequence([
                normalizers.Replace("  ", " "),
                normalizers.Replace(" ", "__")]).normalize_str(text),
            "nfkc": normalizers.NFKC().normalize_str(text),
        })
    print(json.dumps({"tokenizers": importlib.metadata.version("tokenizers"),
                      "regexes": {"gpt2": GPT2, "llama3": LLAMA3, "qwen2": QWEN2},
                      "cases": cases}, ensure_ascii=True, indent=1))


if __name__ == "__main__":
    main()

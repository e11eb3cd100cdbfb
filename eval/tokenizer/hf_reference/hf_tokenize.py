#!/usr/bin/env python3
"""Prints the token ids of a text file under a tokenizer.json, encoded by Hugging Face's
`tokenizers` library, in the form //eval/tokenizer:tokenize prints them, so that
kvlab's reading of the file can be compared with the library's:

    python3 hf_tokenize.py /tmp/smollm2/tokenizer.json wiki.test.raw [--add_bos] > hf.txt

With --add_bos the post-processor's template is applied (BOS where it puts one).
"""
import sys

from tokenizers import Tokenizer

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--add_bos"]
    if len(args) != 2:
        sys.exit("usage: hf_tokenize.py tokenizer.json TEXT [--add_bos]")
    tokenizer = Tokenizer.from_file(args[0])
    with open(args[1], encoding="utf-8") as f:
        text = f.read()
    ids = tokenizer.encode(text, add_special_tokens="--add_bos" in sys.argv).ids
    print("[" + ", ".join(map(str, ids)) + "]")

#!/usr/bin/env bash
# Compares kvlab's token ids with llama.cpp's `llama-tokenize`, id for id, for every GGUF
# pre-tokenizer name kvlab supports (//eval/tokenizer:pre_tokenize --list), and prints one
# Markdown row per comparison: name, vocabulary, text, ids, mismatches.
#
#   eval/tokenizer/llama_cpp_reference/compare_with_llama_tokenize.sh \
#       --llama_tokenize=/path/to/llama.cpp/build/bin/llama-tokenize \
#       --vocab_dir=/path/to/llama.cpp/models [--qwen2=GGUF] [--wiki=TEXT] [--text=TEXT]
#
# --vocab_dir holds llama.cpp's real vocabulary-only GGUFs (ggml-vocab-*.gguf, in the
# llama-cpp-python sdist under vendor/llama.cpp/models). Compared:
#   - Qwen2 on the real Qwen2.5 GGUF (--qwen2, third_party/setup.sh
#     --model=qwen2.5-coder-1.5b) and Llama 3 on ggml-vocab-llama-bpe.gguf, on all of
#     --wiki (default: ../shared/data/wikitext-2-raw/wiki.test.raw);
#   - every name on --text (default: tricky_text.txt beside this script: digits,
#     contractions, CJK, emoji, whitespace runs, newlines, accented letters), on each
#     real vocabulary that carries it, and on Llama 3's and Qwen2's vocabularies
#     written with that name (//eval/tokenizer:vocabulary_gguf).
# Both sides run without BOS: kvlab's tokenize adds none by default, and the written
# vocabularies say add_bos_token=false; llama-tokenize reads the text from stdin with
# --no-escape, so that it sees exactly the file's bytes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
llama_tokenize="" vocab_dir=""
qwen2="$root/third_party/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
wiki="$root/../shared/data/wikitext-2-raw/wiki.test.raw"
text="$root/eval/tokenizer/llama_cpp_reference/tricky_text.txt"
for arg in "$@"; do
  case "$arg" in
    --llama_tokenize=*) llama_tokenize="${arg#*=}" ;;
    --vocab_dir=*) vocab_dir="${arg#*=}" ;;
    --qwen2=*) qwen2="${arg#*=}" ;;
    --wiki=*) wiki="${arg#*=}" ;;
    --text=*) text="${arg#*=}" ;;
    *) echo "compare_with_llama_tokenize: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
for file in "$llama_tokenize" "$vocab_dir/ggml-vocab-llama-bpe.gguf" "$qwen2" "$wiki" "$text"; do
  if [ ! -e "$file" ]; then
    echo "compare_with_llama_tokenize: '$file' does not exist (see the flags in this script's header)" >&2
    exit 2
  fi
done

cd "$root"
bazel build --jobs=1 //eval/tokenizer:tokenize //eval/tokenizer:pre_tokenize \
  //eval/tokenizer:vocabulary_gguf >&2
bin="$root/bazel-bin/eval/tokenizer"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failures=0
# compare NAME VOCABULARY_LABEL GGUF TEXT
compare() {
  local name="$1" label="$2" gguf="$3" text_file="$4"
  "$llama_tokenize" -m "$gguf" --stdin --no-escape --no-bos --ids --log-disable \
    < "$text_file" > "$scratch/llama.txt" 2> "$scratch/llama.err" || {
    echo "| $name | $label | $(basename "$text_file") | llama-tokenize failed: $(tail -1 "$scratch/llama.err") | |"
    failures=$((failures + 1)); return; }
  "$bin/tokenize" --model="$gguf" --file="$text_file" > "$scratch/kvlab.txt"
  python3 - "$scratch/llama.txt" "$scratch/kvlab.txt" "$name" "$label" \
    "$(basename "$text_file")" <<'PY' || failures=$((failures + 1))
import json, sys
llama = json.load(open(sys.argv[1]))
kvlab = json.load(open(sys.argv[2]))
mismatches = sum(a != b for a, b in zip(llama, kvlab)) + abs(len(llama) - len(kvlab))
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {len(llama)} | {mismatches} |")
sys.exit(1 if mismatches else 0)
PY
}

echo "| pre-tokenizer | vocabulary | text | ids | mismatches |"
echo "|---|---|---|---:|---:|"
compare qwen2 "Qwen2.5-Coder-1.5B (real)" "$qwen2" "$wiki"
compare llama-bpe "Llama 3 (real, ggml-vocab-llama-bpe)" "$vocab_dir/ggml-vocab-llama-bpe.gguf" "$wiki"
for gguf in "$vocab_dir"/ggml-vocab-*.gguf; do
  # Byte-level BPE vocabularies only ("gpt2"); a file without tokenizer.ggml.pre is
  # "default" to both.
  read -r model name <<< "$(python3 - "$gguf" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
count = struct.unpack_from("<Q", data, 16)[0]
pos, found = 24, {"tokenizer.ggml.model": "", "tokenizer.ggml.pre": "default"}
def string(pos):
    n = struct.unpack_from("<Q", data, pos)[0]
    return data[pos + 8:pos + 8 + n].decode(), pos + 8 + n
sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
for _ in range(count):
    key, pos = string(pos)
    kind = struct.unpack_from("<I", data, pos)[0]; pos += 4
    if kind == 8:
        value, pos = string(pos)
        if key in found: found[key] = value
    elif kind == 9:
        element, n = struct.unpack_from("<IQ", data, pos); pos += 12
        for _ in range(n):
            if element == 8: _, pos = string(pos)
            else: pos += sizes[element]
    else:
        pos += sizes[kind]
print(found["tokenizer.ggml.model"], found["tokenizer.ggml.pre"])
PY
)"
  if [ "$model" != gpt2 ]; then continue; fi
  compare "$name" "$(basename "$gguf" .gguf) (real)" "$gguf" "$text"
done
for name in $("$bin/pre_tokenize" --list); do
  for base in "Llama 3:$vocab_dir/ggml-vocab-llama-bpe.gguf" "Qwen2.5:$qwen2"; do
    "$bin/vocabulary_gguf" --model="${base#*:}" --pre="$name" --out="$scratch/vocab.gguf"
    compare "$name" "${base%%:*}, written as $name" "$scratch/vocab.gguf" "$text"
  done
done
echo "comparisons that differ or failed: $failures" >&2
[ "$failures" -eq 0 ]

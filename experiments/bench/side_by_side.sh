#!/usr/bin/env bash
# Speed, side by side: kvlab against llama.cpp on the same GGUF, text and thread count,
# one after the other in this one run, and the ratios.
#
#   experiments/bench/side_by_side.sh --llama_cpp=/path/to/llama.cpp/build/bin \
#       [--model=third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf] \
#       [--text=../shared/data/wikitext-2-raw/wiki.test.raw] [--threads=2] [--chunks=10] \
#       [--weights=NATIVE]
#
# llama.cpp is built outside the repository (docs/results.md says how). Three figures:
#   decode     kvlab streaming, one dense cache, 128 tokens, against `llama-bench -p 0
#              -n 128` (tg128: decoding from an empty context);
#   chunked    kvlab's chunked protocol (n_ctx 512) against `llama-perplexity -c 512`
#              on the same number of chunks (its prompt-eval tokens/s);
#   weights    the bytes kvlab's weights hold, against the GGUF file's size.
# Prints the machine, the commands' figures and kvlab/llama.cpp for each.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

llama_cpp="" model="third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf"
text="../shared/data/wikitext-2-raw/wiki.test.raw" threads=2 chunks=10 weights=NATIVE
for arg in "$@"; do
  case "$arg" in
    --llama_cpp=*) llama_cpp="${arg#*=}" ;;
    --model=*) model="${arg#*=}" ;;
    --text=*) text="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    --chunks=*) chunks="${arg#*=}" ;;
    --weights=*) weights="${arg#*=}" ;;
    *) echo "side_by_side: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
for tool in llama-bench llama-perplexity; do
  if [ ! -x "$llama_cpp/$tool" ]; then
    echo "side_by_side: --llama_cpp must name a folder holding $tool (got '$llama_cpp')" >&2
    exit 2
  fi
done
for file in "$model" "$text"; do
  [ -f "$file" ] || { echo "side_by_side: no such file: $file" >&2; exit 2; }
done

bazel build //experiments:run >/dev/null 2>&1 || bazel build //experiments:run
run="$root/bazel-bin/experiments/run"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

kvlab() {  # kvlab <name> <protocol text>: runs one dense cache, prints results.json's path.
  cat > "$scratch/$1.pbtxt" <<CONFIG
name: "$1"
model_path: "$(realpath "$model")"
text_path: "$(realpath "$text")"
output_dir: "$scratch/$1"
threads: $threads
weights_dtype: $weights
$2
caches { name: "dense" }
CONFIG
  "$run" --config="$scratch/$1.pbtxt" >/dev/null 2>"$scratch/$1.log" ||
    { cat "$scratch/$1.log" >&2; exit 1; }
  echo "$scratch/$1/results.json"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; threads: $threads"
echo "model: $model ($(stat -L -c %s "$model") bytes); kvlab weights: $weights"

# Decode: llama-bench's tg128, then kvlab streaming 128 tokens.
"$llama_cpp/llama-bench" -m "$model" -p 0 -n 128 -t "$threads" -r 3 -o json \
  >"$scratch/bench.json" 2>/dev/null
streaming_json="$(kvlab streaming 'streaming { max_tokens: 129 bucket_size: 128 }')"
# Chunked: llama-perplexity, then kvlab on the same chunks.
"$llama_cpp/llama-perplexity" -m "$model" -f "$text" -c 512 --chunks "$chunks" \
  -t "$threads" >/dev/null 2>"$scratch/perplexity.log"
chunked_json="$(kvlab chunked "chunked { n_ctx: 512 max_chunks: $chunks }")"

python3 - "$scratch/bench.json" "$scratch/perplexity.log" "$streaming_json" "$chunked_json" \
  "$(stat -L -c %s "$model")" <<'PY'
import json, re, sys
bench, perplexity_log, streaming, chunked, gguf_bytes = sys.argv[1:]
tg = [t for t in json.load(open(bench)) if t["n_gen"] > 0][0]["avg_ts"]
log = open(perplexity_log).read()
def stamp(pattern):
  # llama.cpp's log lines start with the time since start as minutes.seconds.ms.us.
  minutes, seconds, ms, us = re.search(r"^(\d+)\.(\d+)\.(\d+)\.(\d+) I .*" + pattern, log, re.M).groups()
  return int(minutes) * 60 + int(seconds) + int(ms) / 1e3 + int(us) / 1e6
# Tokens scored and unscored alike pass through the model: chunks x 512 tokens, timed from
# the start of the first chunk to the final estimate (tokenizing the text is left out).
n_chunks = int(re.search(r"calculating perplexity over (\d+) chunks, n_ctx=(\d+)", log).group(1))
n_ctx = int(re.search(r"calculating perplexity over (\d+) chunks, n_ctx=(\d+)", log).group(2))
pp = n_chunks * n_ctx / (stamp("Final estimate") - stamp("calculating perplexity over"))
ppl = re.findall(r"Final estimate: PPL = ([0-9.]+)", log)
s = json.load(open(streaming))[0]
c = json.load(open(chunked))[0]
weight_bytes = c.get("weight_bytes", 0)
print(f"decode   kvlab {s['tokens_per_second']:8.1f} tokens/s  llama-bench tg128 {tg:8.1f}  "
      f"ratio {s['tokens_per_second'] / tg:.2f}")
print(f"chunked  kvlab {c['tokens_per_second']:8.1f} tokens/s  llama-perplexity  {pp:8.1f}  "
      f"ratio {c['tokens_per_second'] / pp:.2f}")
print(f"         perplexity kvlab {c['perplexity']:.4f}  llama-perplexity {ppl[-1] if ppl else '?'}")
print(f"weights  kvlab {weight_bytes} bytes  GGUF {gguf_bytes} bytes  "
      f"ratio {weight_bytes / int(gguf_bytes):.3f}")
PY

#!/usr/bin/env bash
# Compares kvlab's pre-tokenizer words with llama.cpp's own splitting, word for word, for
# every GGUF pre-tokenizer name kvlab supports, and prints one Markdown row per name and
# text: name, text, words, mismatches. Ids (compare_with_llama_tokenize.sh) can hide a
# split that a vocabulary merges back; words cannot.
#
#   eval/tokenizer/llama_cpp_reference/compare_splits_with_llama_cpp.sh \
#       --llama_src=/path/to/llama.cpp [--text=TEXT]...
#
# --llama_src is a llama.cpp source tree (the llama-cpp-python sdist's vendor/llama.cpp);
# its src/unicode.cpp and src/unicode-data.cpp are compiled here, outside the repository,
# into a small program that runs llama.cpp's unicode_regex_split on each name's patterns
# (//eval/tokenizer:pre_tokenize --patterns, llama.cpp's own regexes) as its BPE
# tokenizer does. --text may be given more than once (default: tricky_text.txt beside
# this script).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
llama_src=""
texts=()
for arg in "$@"; do
  case "$arg" in
    --llama_src=*) llama_src="${arg#*=}" ;;
    --text=*) texts+=("${arg#*=}") ;;
    *) echo "compare_splits_with_llama_cpp: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ ${#texts[@]} -gt 0 ] || texts=("$root/eval/tokenizer/llama_cpp_reference/tricky_text.txt")
for file in "$llama_src/src/unicode.cpp" "${texts[@]}"; do
  if [ ! -e "$file" ]; then
    echo "compare_splits_with_llama_cpp: '$file' does not exist" >&2
    exit 2
  fi
done

cd "$root"
bazel build --jobs=1 //eval/tokenizer:pre_tokenize >&2
pre_tokenize="$root/bazel-bin/eval/tokenizer/pre_tokenize"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# llama.cpp's splitting: patterns (one per line) and a text in, words out, written as
# absl::CHexEscape writes them (pre_tokenize's format).
cat > "$scratch/split.cc" <<'CC'
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "unicode.h"

static std::string Read(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

static std::string Escape(const std::string& word) {
  std::string out;
  bool after_hex = false;
  for (unsigned char c : word) {
    const char* named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                      : c == '"' ? "\\\"" : c == '\'' ? "\\'" : c == '\\' ? "\\\\" : nullptr;
    char hex[8];
    if (named != nullptr) {
      out += named;
      after_hex = false;
    } else if (c < 0x20 || c >= 0x7F || (after_hex && std::isxdigit(c))) {
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      after_hex = true;
    } else {
      out += static_cast<char>(c);
      after_hex = false;
    }
  }
  return out;
}

int main(int argc, char** argv) {
  std::vector<std::string> patterns;
  std::istringstream lines(Read(argv[1]));
  for (std::string line; std::getline(lines, line);) patterns.push_back(line);
  for (const std::string& word : unicode_regex_split(Read(argv[2]), patterns, false)) {
    if (!word.empty()) std::printf("%s\n", Escape(word).c_str());
  }
}
CC
g++ -std=c++17 -O2 -I"$llama_src/src" "$scratch/split.cc" "$llama_src/src/unicode.cpp" \
  "$llama_src/src/unicode-data.cpp" -o "$scratch/llama_split"

failures=0
echo "| pre-tokenizer | text | words | mismatches |"
echo "|---|---|---:|---:|"
for text in "${texts[@]}"; do
  for name in $("$pre_tokenize" --list); do
    "$pre_tokenize" --pre="$name" --patterns > "$scratch/patterns.txt"
    "$scratch/llama_split" "$scratch/patterns.txt" "$text" > "$scratch/llama.txt"
    "$pre_tokenize" --pre="$name" --file="$text" > "$scratch/kvlab.txt"
    python3 - "$scratch/llama.txt" "$scratch/kvlab.txt" "$name" "$(basename "$text")" <<'PY' \
      || failures=$((failures + 1))
import sys
llama = open(sys.argv[1], encoding="latin-1").read().splitlines()
kvlab = open(sys.argv[2], encoding="latin-1").read().splitlines()
mismatches = sum(a != b for a, b in zip(llama, kvlab)) + abs(len(llama) - len(kvlab))
print(f"| {sys.argv[3]} | {sys.argv[4]} | {len(llama)} | {mismatches} |")
sys.exit(1 if mismatches else 0)
PY
  done
done
echo "comparisons that differ: $failures" >&2
[ "$failures" -eq 0 ]

#!/usr/bin/env bash
# Prepares a GPU visit: two short commands on a GPU machine that has the driver, CUDA
# 13 and PyTorch 2.11 but no Bazel and no network, each carrying at most 64 MiB beside
# the repository's tracked tree (docs/kernels.md, "The GPU visit"). Builds the CUDA
# configuration here and writes two ignored folders, one per call, each with an xz
# archive, one part of the default model and the manifest of sha256s:
#
#   gpu_visit/call1/  kernels.tar.xz (decode_attention_gpu, cuda_kernels_check and the
#                     shared libraries they need) + model.part1 + MANIFEST.sha256
#   gpu_visit/call2/  harness.tar.xz (run, its libraries, the gpu_*.pbtxt configs and
#                     WikiText-2's test text) + model.part2 + MANIFEST.sha256
#
# Each call's files plus the tracked tree stay under 60 MiB (the model is split so);
# a bundle that would not fit is refused with a one-line error and nothing is written.
# Bundled: the shared libraries that resolve here outside LibTorch's and the CUDA
# toolkit's folders and outside the C runtime (glibc, libstdc++, libgcc_s), which the GPU
# machine has in newer versions; stripped.
#
#   kernels/cuda/make_gpu_visit.sh [DIR]              (default: gpu_visit/)
#   kernels/cuda/make_gpu_visit.sh --rehearse [DIR]   CPU build instead: only `run`
#                                                     builds without CUDA
#   kernels/cuda/make_gpu_visit.sh --check_sizes DIR [--tree_bytes N]
#   kernels/cuda/make_gpu_visit.sh --print_limit      the size limit in bytes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
me="make_gpu_visit.sh"
# What a call may carry together with the tracked tree (64 MiB less a margin for the
# files git does not ignore and for the tree changing after packing).
readonly limit_bytes=$((60 * 1024 * 1024))
readonly model_rel="third_party/models/SmolLM2-135M-Instruct.Q4_1.gguf"
readonly text="${KVLAB_WIKITEXT:-$root/../shared/data/wikitext-2-raw/wiki.test.raw}"

die() { echo "$me: $*" >&2; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# Bytes of what a call copies besides its carried paths: tracked files and untracked
# files git does not ignore.
tree_bytes() {
  git -C "$root" ls-files -z --cached --others --exclude-standard |
    (cd "$root" && xargs -0 stat -L -c %s 2>/dev/null) | awk '{ s += $1 } END { print s + 0 }'
}

# Refuses (one line, exit 1) if a call folder plus the tree exceeds the limit.
check_call() {  # folder tree_bytes
  local folder="$1" tree="$2" bytes
  bytes=$(find "$folder" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  if [ $((bytes + tree)) -gt "$limit_bytes" ]; then
    die "$(basename "$folder") would carry $(mib "$bytes") beside a $(mib "$tree") tree:" \
      "$(mib $((bytes + tree))), over the limit of $(mib "$limit_bytes")"
  fi
  echo "$(basename "$folder"): $(mib "$bytes") + tree $(mib "$tree") = $(mib $((bytes + tree)))" \
    "(limit $(mib "$limit_bytes"))"
}

rehearse=0
case "${1:-}" in
  --print_limit) echo "$limit_bytes"; exit 0 ;;
  --check_sizes)
    [ -d "${2:-}" ] || die "--check_sizes needs a bundle folder (with call1/ and call2/)"
    if [ "${3:-}" = "--tree_bytes" ]; then
      tree="${4:-}"
      [[ "$tree" =~ ^[0-9]+$ ]] || die "--tree_bytes needs a number of bytes, got '$tree'"
    else
      tree="$(tree_bytes)"
    fi
    for call in call1 call2; do
      [ -d "$2/$call" ] || die "$2/$call: no such folder (expected call1/ and call2/)"
      check_call "$2/$call" "$tree"
    done
    exit 0 ;;
  --rehearse) rehearse=1; shift ;;
  -*) die "unknown flag '$1' (expected --rehearse, --check_sizes, --print_limit)" ;;
esac
out="${1:-$root/gpu_visit}"
[ -f "$root/$model_rel" ] || die "$model_rel: missing (run third_party/setup.sh)"
[ -f "$text" ] || die "$text: missing (WikiText-2's test text; set KVLAB_WIKITEXT)"
cd "$root"

if [ "$rehearse" -eq 1 ]; then
  config=()
  kernel_targets=()
  echo "$me: rehearsal: CPU build; decode_attention_gpu and cuda_kernels_check need" \
    "--config=cuda and are skipped"
else
  config=(--config=cuda)
  kernel_targets=(//kernels/cuda:decode_attention_gpu //kernels/cuda:cuda_kernels_check)
fi
bazel build "${config[@]}" "${kernel_targets[@]}" //experiments:run
bin="$(bazel info "${config[@]}" bazel-bin 2>/dev/null)"

staging="$(mktemp -d)"
new="$out.partial"
trap 'rm -rf "$staging" "$new"' EXIT  # Nothing half written: $new becomes $out last.

# Copies binaries (stripped) into $1/bin and the libraries they need into $1/lib.
pack_binaries() {  # folder binary...
  local folder="$1" torch_lib cuda_home
  shift
  mkdir -p "$folder/bin" "$folder/lib"
  torch_lib="$(readlink -f third_party/libtorch)"
  cuda_home="$(readlink -f "${KVLAB_CUDA_HOME:-/usr/local/cuda}" 2>/dev/null || echo /usr/local/cuda)"
  local binary
  for binary in "$@"; do
    install -m 755 "$binary" "$folder/bin/"
    strip --strip-unneeded "$folder/bin/$(basename "$binary")"
  done
  [ $# -gt 0 ] || return 0
  for binary in "$@"; do
    ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
  done | sort -u | while read -r name path; do
    case "$name" in
      # glibc's pieces (Debian's libutil.so.1 is a stub of glibc's) and the C++ runtime.
      ld-linux* | libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | \
        libutil.so* | libresolv.so* | libanl.so* | libmvec.so* | libcrypt.so* | \
        libnsl.so* | libnss_* | libthread_db.so* | libBrokenLocale.so* | \
        libstdc++.so* | libgcc_s.so*) continue ;;
      libcudart.so* | libcuda.so*) continue ;;  # The driver's and PyTorch's own.
    esac
    case "$(readlink -f "$path")" in
      "$torch_lib"/* | "$cuda_home"/* | /usr/local/cuda*) continue ;;
    esac
    install -m 644 "$(readlink -f "$path")" "$folder/lib/$name"
    strip --strip-unneeded "$folder/lib/$name"
  done
}

archive() {  # folder archive
  tar -C "$1" -cf - . | xz -6 -T2 >"$2"
}

rm -rf "$new"
mkdir -p "$new/call1" "$new/call2"

kernels_dir="$staging/kernels"
binaries=()
for target in "${kernel_targets[@]}"; do
  binaries+=("$bin/$(echo "${target#//}" | tr ':' '/')")
done
pack_binaries "$kernels_dir" "${binaries[@]}"
if [ "$rehearse" -eq 1 ]; then
  echo "rehearsal bundle: built without CUDA, so no kernel programs" >"$kernels_dir/REHEARSAL"
fi
archive "$kernels_dir" "$new/call1/kernels.tar.xz"

harness_dir="$staging/harness"
pack_binaries "$harness_dir" "$bin/experiments/run"
mkdir -p "$harness_dir/configs" "$harness_dir/data"
cp experiments/configs/gpu_*.pbtxt "$harness_dir/configs/"
cp "$text" "$harness_dir/data/wiki.test.raw"
[ "$rehearse" -eq 0 ] || echo "rehearsal bundle: CPU build" >"$harness_dir/REHEARSAL"
archive "$harness_dir" "$new/call2/harness.tar.xz"

# The model in two parts: call 1 takes what fits beside its archive, the manifest and
# the tree; call 2 the rest.
tree="$(tree_bytes)"
model="$(readlink -f "$model_rel")"
model_bytes=$(stat -c %s "$model")
manifest_room=4096
part1=$((limit_bytes - tree - $(stat -c %s "$new/call1/kernels.tar.xz") - manifest_room))
[ "$part1" -gt 0 ] || die "call1: its archive alone fills the limit of $(mib "$limit_bytes")"
[ "$part1" -le "$model_bytes" ] || part1=$model_bytes
head -c "$part1" "$model" >"$new/call1/model.part1"
tail -c +$((part1 + 1)) "$model" >"$new/call2/model.part2"

{
  echo "# sha256 of every file a call carries (paths under gpu_visit/) and of the joined model"
  (cd "$new" && sha256sum call1/kernels.tar.xz call1/model.part1 call2/harness.tar.xz \
    call2/model.part2)
  echo "$(sha256sum <"$model" | cut -d' ' -f1)  model.gguf"
} >"$staging/MANIFEST.sha256"
cp "$staging/MANIFEST.sha256" "$new/call1/"
cp "$staging/MANIFEST.sha256" "$new/call2/"

for call in call1 call2; do
  check_call "$new/$call" "$tree"
done
rm -rf "$out"
mv "$new" "$out"
echo "$me: wrote $out (carry gpu_visit/call1 in call 1, gpu_visit/call2 in call 2)"

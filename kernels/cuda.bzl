"""cuda_library: compiles .cu files with nvcc into a static library Bazel can link.

Bazel 4 has no CUDA rules, so each .cu becomes an object through a genrule running
the toolkit's nvcc (found by //third_party:cuda.bzl), the objects are archived, and the
archive is imported. The CUDA runtime is the shared libcudart (@cuda//:cudart), the
same one LibTorch's CUDA libraries load, so that the process holds one runtime.
"""

load("@cuda//:defs.bzl", "CUDA_FOUND", "CUDA_HOME", "NVCC")

# Without a toolkit, compiling a .cu fails with this message (only --config=cuda does).
_NO_NVCC = ("echo 'no CUDA toolkit at " + CUDA_HOME + " (no bin/nvcc): --config=cuda " +
            "needs one; point KVLAB_CUDA_HOME at it with --repo_env' >&2; exit 1; ")

# Hopper (H100, H200) machine code, plus PTX for later GPUs to compile at load time.
_GENCODE = "-gencode arch=compute_90,code=[sm_90,compute_90]"

# Only --config=cuda builds these (a dependency under that configuration pulls them
# in); `bazel build //...` on a machine without the toolkit must not try.
_TAGS = ["manual"]

def cuda_library(name, srcs, hdrs = [], visibility = None):
    objects = []
    for src in srcs:
        obj = name + "_" + src.replace("/", "_").replace(".cu", ".o")
        native.genrule(
            name = obj.replace(".o", "_compile"),
            srcs = [src] + hdrs,
            outs = [obj],
            tags = _TAGS,
            cmd = (("" if CUDA_FOUND else _NO_NVCC) + NVCC +
                   " -std=c++17 -O3 --use_fast_math -Xcompiler -fPIC " + _GENCODE +
                   " -I. -c $(location " + src + ") -o $@"),
        )
        objects.append(obj)
    native.genrule(
        name = name + "_archive",
        srcs = objects,
        outs = ["lib" + name + "_cuda.a"],
        tags = _TAGS,
        cmd = "ar rcs $@ $(SRCS)",
    )
    native.cc_import(
        name = name + "_import",
        static_library = "lib" + name + "_cuda.a",
        alwayslink = True,
        tags = _TAGS,
    )
    # The headers compile the .cu files above; the C++ code that calls the launchers
    # lists them itself, so they are not exported (exporting them would change the
    # inputs, and so the cache keys, of every compile that depends on the kernels).
    native.cc_library(
        name = name,
        visibility = visibility,
        tags = _TAGS,
        deps = [
            ":" + name + "_import",
            "@cuda//:cudart",
        ],
    )

"""libtorch_repository: LibTorch 2 from PyPI's torch wheel, unpacked by third_party/setup.sh.

setup.sh unpacks `torch/include` and `torch/lib` of the `torch==2.11.0` wheel, plus the
CUDA runtime and CUPTI libraries that `libtorch_cpu.so` names as dependencies, into
`third_party/libtorch/` (ignored by git). This rule finds that folder and writes its
BUILD file with absolute run paths, so binaries load the same libraries from
`bazel-bin` as from `bazel run`. A missing folder is a clear error naming the command
that installs it.

Targets:
  @libtorch//:libtorch       headers, libc10 and libtorch_cpu (what every build links)
  @libtorch//:libtorch_cuda  libc10_cuda and libtorch_cuda, for --config=cuda
"""

_BUILD = """\
package(default_visibility = ["//visibility:public"])

# Only LibTorch's own headers: the wheel's include folder also carries its private
# copies of protobuf, fmt and others, which must not shadow the system's.
cc_library(
    name = "headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]),
    includes = [
        "include",
        "include/torch/csrc/api/include",
    ],
)

# CPU: libc10 and libtorch_cpu only.
cc_library(
    name = "libtorch",
    linkopts = [
        "-L{lib}",
        "-Wl,-rpath,{lib}",
        "-ltorch_cpu",
        "-lc10",
        "-pthread",
    ],
    deps = [":headers"],
)

# CUDA: libtorch_cuda registers its kernels when it loads, so it is linked even though
# nothing names its symbols. Its own dependencies (cuDNN, cuBLAS, NCCL, ...) come from
# the machine that runs the binary: a GPU machine's PyTorch and its nvidia packages.
cc_library(
    name = "libtorch_cuda",
    linkopts = [
        "-L{lib}",
        "-Wl,--no-as-needed",
        "-ltorch_cuda",
        "-lc10_cuda",
        "-Wl,--as-needed",
        "-Wl,--allow-shlib-undefined",
    ],
    deps = [":libtorch"],
)
"""

_HEADER_FOLDERS = ["ATen", "c10", "caffe2", "torch"]

def _libtorch_repository_impl(ctx):
    root = ctx.path(Label("//:WORKSPACE")).dirname
    install = root.get_child("third_party").get_child("libtorch")
    lib = install.get_child("torch").get_child("lib")
    if not lib.get_child("libtorch_cpu.so").exists:
        fail("LibTorch is not installed in %s: run third_party/setup.sh" % install)
    headers = install.get_child("torch").get_child("include")
    for folder in _HEADER_FOLDERS:
        ctx.symlink(headers.get_child(folder), "include/" + folder)
    ctx.file("WORKSPACE", "workspace(name = \"libtorch\")\n")
    ctx.file("BUILD", _BUILD.replace("{lib}", str(lib)))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    local = True,
    doc = "LibTorch 2 unpacked from PyPI's torch wheel into third_party/libtorch by setup.sh.",
)

"""cuda_repository: the CUDA toolkit if this machine has one, stub targets if not.

CUDA is optional: a machine without a toolkit must build and test everything that
does not need one. The toolkit is looked for at $KVLAB_CUDA_HOME (Bazel's
--repo_env), else /usr/local/cuda. Found, the repository wraps its runtime and
headers; missing, it declares the same targets as stubs whose build fails with a
message naming the path, so only `--config=cuda` needs the toolkit, while queries
that follow every select() branch (the layering tests) still see the targets.

Targets:
  @cuda//:cudart     the shared CUDA runtime (libcudart.so)
  @cuda//:headers    the toolkit's headers, for C++ that includes ATen's CUDA headers
  @cuda//:defs.bzl   CUDA_FOUND, CUDA_HOME and NVCC, for kernels/cuda.bzl
"""

_FOUND_BUILD = """\
# The CUDA runtime from {home}, linked as the shared libcudart.so: the process then
# holds one CUDA runtime, the one LibTorch's CUDA libraries load too. On a GPU machine
# it comes from beside that machine's PyTorch (nvidia/cu13/lib). Kernels are compiled
# by nvcc (kernels/cuda.bzl).
package(default_visibility = ["//visibility:public"])

exports_files(["defs.bzl"])

cc_library(
    name = "cudart",
    linkopts = [
        "-L{home}/lib64",
        "-Wl,--no-as-needed",
        "-lcudart",
        "-Wl,--as-needed",
        "-ldl",
        "-lrt",
        "-pthread",
    ],
)

# The toolkit's headers, for C++ programs that include ATen's CUDA headers (events,
# graphs, streams); the .cu files get them from nvcc. Only such programs depend on it.
cc_library(
    name = "headers",
    hdrs = glob(["include/**"]),
    includes = ["include"],
)
"""

_MISSING_BUILD = """\
# No CUDA toolkit at {home}: these targets exist so that queries over every select()
# branch resolve, and building one (under --config=cuda) fails saying why.
package(default_visibility = ["//visibility:public"])

exports_files(["defs.bzl"])

genrule(
    name = "missing_toolkit",
    outs = ["missing_toolkit.cc"],
    cmd = "echo 'no CUDA toolkit at {home} (no bin/nvcc): --config=cuda needs one; " +
          "point KVLAB_CUDA_HOME at it with --repo_env' >&2; exit 1",
)

cc_library(
    name = "cudart",
    srcs = [":missing_toolkit"],
)

cc_library(
    name = "headers",
    srcs = [":missing_toolkit"],
)
"""

_DEFS = """\
# Written by //third_party:cuda.bzl for this machine.
CUDA_FOUND = {found}
CUDA_HOME = "{home}"
NVCC = "{nvcc}"
"""

def _cuda_repository_impl(ctx):
    home = ctx.os.environ.get("KVLAB_CUDA_HOME", "/usr/local/cuda")
    root = ctx.path(home)
    nvcc = root.get_child("bin").get_child("nvcc")
    found = nvcc.exists
    if found:
        ctx.symlink(root.get_child("include"), "include")
        ctx.file("BUILD", _FOUND_BUILD.format(home = home))
    else:
        ctx.file("BUILD", _MISSING_BUILD.format(home = home))
    ctx.file("WORKSPACE", "workspace(name = \"cuda\")\n")
    ctx.file("defs.bzl", _DEFS.format(
        found = "True" if found else "False",
        home = home,
        nvcc = str(nvcc) if found else "",
    ))

cuda_repository = repository_rule(
    implementation = _cuda_repository_impl,
    local = True,
    environ = ["KVLAB_CUDA_HOME"],
    doc = "The CUDA toolkit at $KVLAB_CUDA_HOME or /usr/local/cuda, or stubs without one.",
)

"""ggml_repository: ggml's CPU kernels, built by third_party/setup.sh.

setup.sh builds ggml (ggml-base, the backend registry `ggml` and one CPU backend per
x86 level, each a module loaded at run time) from the llama.cpp that PyPI's
`llama-cpp-python==0.3.36` sdist vendors, and installs it into `third_party/ggml/`
(ignored by git): `include/`, `lib/` and a VERSION stamp. This rule finds that folder
and writes its BUILD file with absolute run paths, and writes `ggml_install/backend_dir.h`,
which tells the code where the CPU backend modules are (KVLAB_GGML_BACKEND_DIR). A missing folder is a clear error naming
the command that installs it.

Targets:
  @ggml//:ggml  headers, libggml-base and libggml (the registry that loads a CPU backend)
"""

_BUILD = """\
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "ggml",
    hdrs = glob(["include/*.h"]) + ["ggml_install/backend_dir.h"],
    includes = [
        ".",
        "include",
    ],
    linkopts = [
        "-L{lib}",
        "-Wl,-rpath,{lib}",
        "-lggml",
        "-lggml-base",
        "-ldl",
        "-pthread",
    ],
)
"""

def _ggml_repository_impl(ctx):
    root = ctx.path(Label("//:WORKSPACE")).dirname
    install = root.get_child("third_party").get_child("ggml")
    lib = install.get_child("lib")
    if not lib.get_child("libggml-base.so").exists or not install.get_child("VERSION").exists:
        fail("ggml is not installed in %s: run third_party/setup.sh" % install)
    ctx.symlink(install.get_child("include"), "include")
    ctx.file(
        "ggml_install/backend_dir.h",
        "#define KVLAB_GGML_BACKEND_DIR \"%s\"\n" % lib,
    )
    ctx.file("WORKSPACE", "workspace(name = \"ggml\")\n")
    ctx.file("BUILD", _BUILD.replace("{lib}", str(lib)))

ggml_repository = repository_rule(
    implementation = _ggml_repository_impl,
    local = True,
    doc = "ggml built from the llama-cpp-python sdist into third_party/ggml by setup.sh.",
)

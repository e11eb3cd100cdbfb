"""kvlab's layers, and Bazel checks that dependencies only point down.

Bottom to top (docs/architecture.md): a package may depend on its own layer's
packages (eval/model on eval/gguf) and on layers below; policies and quant share a
layer and do not depend on each other.

    load("//base:layering.bzl", "layering_test", "visible_above")
    cc_library(name = "x", ..., visibility = visible_above("core"))
    layering_test("core")  # last in the BUILD file
"""

LAYERS = [
    ["base"],
    ["kernels"],
    ["core"],
    ["policies", "quant"],
    ["eval"],
    ["experiments"],
    ["examples"],
]

def _level(package):
    for level, packages in enumerate(LAYERS):
        if package in packages:
            return level
    fail("%s is in no layer of //base:layering.bzl" % package)

def _above(package):
    level = _level(package)
    return [p for layer in LAYERS[level + 1:] for p in layer]

def visible_above(package):
    """Visibility for a target of `package` (a top-level folder) that layers above use."""
    return ["//%s:__subpackages__" % p for p in [package] + _above(package)]

def layering_test(layer):
    """A test that fails if a target declared so far in this BUILD file depends,
    directly or not, on a package in a layer above `layer` (a top-level folder)."""
    package = native.package_name()
    targets = ["//%s:%s" % (package, name) for name in sorted(native.existing_rules().keys())]
    native.genquery(
        name = "layering_deps",
        testonly = True,
        expression = "deps(set(%s))" % " ".join(targets),
        scope = targets,
    )
    native.sh_test(
        name = "layering_test",
        size = "small",
        srcs = ["//base:check_layering.sh"],
        args = ["$(location :layering_deps)"] + _above(layer),
        data = [":layering_deps"],
    )

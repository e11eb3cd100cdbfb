"""kvlab's layers, and Bazel checks that dependencies only point down.

Bottom to top (docs/architecture.md). Each entry of LAYERS is a folder with its
subfolders (experiments/ holds experiments/slurm/); a package may depend on its own
folder and on layers below. Folders that share a layer do not depend on each other:
policies/ and quant/, the two file formats, base/ and fuzzing/. eval/ is layered
within: its test data, the file formats, the tokenizers, the models, then the
protocols' engines, in which retrieval builds on perplexity's scoring and RULER on both.

    load("//base:layering.bzl", "layering_test", "visible_above")
    cc_library(name = "x", ..., visibility = visible_above("core"))
    layering_test()  # last in the BUILD file
"""

LAYERS = [
    # Depend on nothing of kvlab's: status, files and devices; the fuzz corpus replayer.
    ["base", "fuzzing"],
    ["kernels"],
    ["core"],
    # Plugins: eviction policies and quantizers, neither using the other.
    ["policies", "quant"],
    # The default model's path, for tests at every eval layer.
    ["eval/testing"],
    # File formats.
    ["eval/gguf", "eval/safetensors"],
    ["eval/tokenizer"],
    ["eval/model"],
    # The protocols' engines: perplexity's lockstep scoring, which retrieval uses, and
    # retrieval's chat format, which RULER uses.
    ["eval/perplexity"],
    ["eval/retrieval"],
    ["eval/ruler"],
    ["experiments"],
    ["examples"],
]

def _within(package, folder):
    return package == folder or package.startswith(folder + "/")

def _entry(package):
    """The LAYERS entry that holds `package` (the longest folder it lies in)."""
    found = None
    for layer in LAYERS:
        for folder in layer:
            if _within(package, folder) and (found == None or len(folder) > len(found)):
                found = folder
    if found == None:
        fail("%s is in no layer of //base:layering.bzl" % package)
    return found

def _level(folder):
    for level, folders in enumerate(LAYERS):
        if folder in folders:
            return level
    fail("%s is in no layer of //base:layering.bzl" % folder)

def _forbidden(folder):
    """What `folder`, a LAYERS entry, must not depend on: the other folders of its
    layer, and every folder of the layers above."""
    level = _level(folder)
    return [f for f in LAYERS[level] if f != folder] + [
        f
        for layer in LAYERS[level + 1:]
        for f in layer
    ]

def visible_above(package):
    """Visibility for a target of `package` (a LAYERS entry, or a folder that holds
    several, as eval does) that its own folder and the layers above it use."""
    folders = [f for layer in LAYERS for f in layer if _within(f, package)]
    if not folders:
        folders = [_entry(package)]
    lowest = min([_level(f) for f in folders])
    above = [
        f
        for layer in LAYERS[lowest + 1:]
        for f in layer
        if not _within(f, package)
    ]
    return ["//%s:__subpackages__" % p for p in [package] + above]

def layering_test(layer = None, name = "layering_test", targets = None):
    """A test that fails if a target depends, directly or not, on a folder of its own
    layer or of a layer above.

    Args:
      layer: the folder whose rule applies: by default (or when it holds this package,
        as "eval" holds eval/model) this package's own entry of LAYERS. A package may
        hold targets that keep to a lower layer's rule: an example plugin that is an
        eviction policy is checked as policies/ is.
      name: the test's name; its query is `<name>_deps`.
      targets: the targets checked; by default, every target declared so far in this
        BUILD file.
    """
    package = native.package_name()
    if layer == None or _within(package, layer):
        layer = package
    if targets == None:
        targets = [":" + target for target in sorted(native.existing_rules().keys())]
    labels = ["//%s%s" % (package, target) for target in targets]
    # The package's own files and targets are allowed whatever rule applies.
    forbidden = [f for f in _forbidden(_entry(layer)) if not _within(package, f)]
    if not forbidden:
        fail("%s is in the top layer: nothing lies above it to check" % package)
    native.genquery(
        name = name + "_deps",
        testonly = True,
        expression = "deps(set(%s))" % " ".join(labels),
        scope = labels,
    )
    native.sh_test(
        name = name,
        size = "small",
        srcs = ["//base:check_layering.sh"],
        args = ["$(location :%s_deps)" % name] + forbidden,
        data = [":%s_deps" % name],
    )

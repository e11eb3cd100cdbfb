"""kvlab_plugin_targets(): the four Bazel targets every registered plugin has.

A plugin (an eviction policy, a quantizer) is an options proto, a library whose
KVLAB_REGISTER_* line adds it to its registry (core/registry.h), and a test. The kinds
differ only in file names and in the core library they implement, so the public
macros, kvlab_policy() (policies/policy.bzl) and kvlab_quantizer()
(quant/quantizer.bzl), call this one:

    <stem>_proto      proto_library of <stem>.proto
    <stem>_cc_proto   its cc_proto_library
    <library>         cc_library of <library>.cc, alwayslink (without it the linker
                      drops the self-registration, and the name is unknown at run time)
    <library>_test    cc_test of <library>_test.cc, with the library, its options,
                      kvlab's test main (GoogleTest's, with ATen seeded before
                      each test), kvlab's status matchers and LibTorch

Labels of kvlab's targets are resolved here, relative to kvlab's repository, so a
workspace holding kvlab as an external repository can use the public macros too.
"""

load("//base:test.bzl", "kvlab_test")

def kvlab_plugin_targets(
        stem,
        library,
        library_deps,
        test_deps,
        visibility = None,
        deps = [],
        proto_deps = [],
        extra_test_deps = [],
        test_size = "small"):
    """Declares the options proto, registering library and test of one plugin.

    Args:
      stem: the options file's stem (<stem>.proto).
      library: the library's name and source stem (<library>.cc, <library>_test.cc).
      library_deps: what every plugin of this kind's library needs (its core interface).
      test_deps: what every plugin of this kind's test needs beyond the common ones.
      visibility: of the proto, cc_proto and library targets (the test's is the default).
      deps: the library's own further deps.
      proto_deps: proto_library deps of <stem>.proto, if it imports any.
      extra_test_deps: the test's own further deps.
      test_size: the test's size.
    """
    native.proto_library(
        name = stem + "_proto",
        visibility = visibility,
        srcs = [stem + ".proto"],
        deps = proto_deps,
    )
    native.cc_proto_library(
        name = stem + "_cc_proto",
        visibility = visibility,
        deps = [":" + stem + "_proto"],
    )
    native.cc_library(
        name = library,
        visibility = visibility,
        srcs = [library + ".cc"],
        alwayslink = True,
        deps = [
            ":" + stem + "_cc_proto",
            Label("@abseil//:status"),
            Label("@abseil//:strings"),
        ] + library_deps + deps,
    )
    kvlab_test(
        name = library + "_test",
        size = test_size,
        torch = True,
        deps = [
            ":" + library,
            ":" + stem + "_cc_proto",
            Label("//base:status_matchers"),
        ] + test_deps + extra_test_deps,
    )

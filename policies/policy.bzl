"""kvlab_policy(): the Bazel targets of one eviction policy plugin.

A policy plugin is `<name>.proto` (its options message), `<name>.cc` (the policy and
its KVLAB_REGISTER_EVICTION_POLICY line) and `<name>_test.cc`. One call declares:

    <name>_proto      proto_library of <name>.proto
    <name>_cc_proto   its cc_proto_library
    <name>            cc_library of <name>.cc, alwayslink (without it the linker drops
                      the self-registration, and the name is unknown at run time)
    <name>_test       cc_test of <name>_test.cc, with <name>, <name>_cc_proto,
                      GoogleTest's main, kvlab's status matchers and LibTorch

    load("//policies:policy.bzl", "kvlab_policy")
    kvlab_policy(name = "window", visibility = visible_above("policies"))

Out of kvlab's own folders the same call works; a binary offers the policy by
depending on `:<name>` next to the experiment runner (examples/BUILD). The labels of
kvlab's targets are resolved here, relative to kvlab's repository, so a workspace
that holds kvlab as an external repository uses the macro as `@kvlab//policies:policy.bzl`.
"""

def kvlab_policy(
        name,
        visibility = None,
        deps = [],
        proto_deps = [],
        test_deps = [],
        test_size = "small"):
    """Declares the proto, library and test of the eviction policy `name`.

    Args:
      name: the policy's file stem (<name>.proto, <name>.cc, <name>_test.cc).
      visibility: of the proto, cc_proto and library targets (the test's is the default).
      deps: the library's deps beyond its options, //core:eviction_policy, Abseil's
        status and strings, and LibTorch.
      proto_deps: proto_library deps of <name>.proto, if it imports any.
      test_deps: the test's deps beyond those listed above.
      test_size: the test's size.
    """
    native.proto_library(
        name = name + "_proto",
        visibility = visibility,
        srcs = [name + ".proto"],
        deps = proto_deps,
    )
    native.cc_proto_library(
        name = name + "_cc_proto",
        visibility = visibility,
        deps = [":" + name + "_proto"],
    )
    native.cc_library(
        name = name,
        visibility = visibility,
        srcs = [name + ".cc"],
        alwayslink = True,
        deps = [
            ":" + name + "_cc_proto",
            Label("//core:eviction_policy"),
            Label("@abseil//:status"),
            Label("@abseil//:strings"),
            Label("@libtorch"),
        ] + deps,
    )
    native.cc_test(
        name = name + "_test",
        size = test_size,
        srcs = [name + "_test.cc"],
        deps = [
            ":" + name,
            ":" + name + "_cc_proto",
            Label("//base:status_matchers"),
            Label("@googletest//:gtest_main"),
            Label("@libtorch"),
        ] + test_deps,
    )

"""kvlab_policy(): the Bazel targets of one eviction policy plugin.

A policy plugin is `<name>.proto` (its options message), `<name>.cc` (the policy and
its KVLAB_REGISTER_EVICTION_POLICY line) and `<name>_test.cc`. One call declares:

    <name>_proto      proto_library of <name>.proto
    <name>_cc_proto   its cc_proto_library
    <name>            cc_library of <name>.cc, alwayslink (without it the linker drops
                      the self-registration, and the name is unknown at run time)
    <name>_test       cc_test of <name>_test.cc, with <name>, <name>_cc_proto,
                      kvlab's test main (GoogleTest's, with ATen seeded before
                      each test), kvlab's status matchers and LibTorch

    load("//policies:policy.bzl", "kvlab_policy")
    kvlab_policy(name = "window", visibility = visible_above("policies"))

Out of kvlab's own folders the same call works; a binary offers the policy by
depending on `:<name>` next to the experiment runner (examples/BUILD). The labels of
kvlab's targets are resolved here, relative to kvlab's repository, so a workspace
that holds kvlab as an external repository uses the macro as `@kvlab//policies:policy.bzl`.
"""

load("//core:plugin.bzl", "kvlab_plugin_targets")

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
    kvlab_plugin_targets(
        stem = name,
        library = name,
        library_deps = [Label("//core:eviction_policy"), Label("@libtorch")],
        test_deps = [],
        visibility = visibility,
        deps = deps,
        proto_deps = proto_deps,
        extra_test_deps = test_deps,
        test_size = test_size,
    )

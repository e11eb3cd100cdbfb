"""kvlab_quantizer(): the Bazel targets of one quantizer plugin.

A quantizer plugin is `<name>.proto` (its options message), `<name>_quantizer.cc` (the
quantizer and its KVLAB_REGISTER_QUANTIZER lines; one file may register several names,
as integer_quantizer.cc registers int8, int4 and int2) and `<name>_quantizer_test.cc`.
The store that holds the quantized tensors is a library of its own, passed in `deps`.
One call declares:

    <name>_proto              proto_library of <name>.proto
    <name>_cc_proto           its cc_proto_library
    <name>_quantizer          cc_library of <name>_quantizer.cc, alwayslink (without it
                              the linker drops the self-registration, and the name is
                              unknown at run time)
    <name>_quantizer_test     cc_test of <name>_quantizer_test.cc, with the library, its
                              options, //core:quantizer, kvlab's test main
                              (GoogleTest's, with ATen seeded before each test),
                              kvlab's status matchers and LibTorch

    load("//quant:quantizer.bzl", "kvlab_quantizer")
    kvlab_quantizer(name = "fp8", visibility = visible_above("quant"), deps = [":fp8_store"])

As with kvlab_policy() (policies/policy.bzl), kvlab's labels resolve against kvlab's
repository, so the macro also serves a plugin outside kvlab's folders (loaded as
`@kvlab//quant:quantizer.bzl` from a workspace holding kvlab as an external repository);
a binary offers the quantizer by depending on `:<name>_quantizer` next to the
experiment runner.
"""

load("//core:plugin.bzl", "kvlab_plugin_targets")

def kvlab_quantizer(
        name,
        visibility = None,
        deps = [],
        proto_deps = [],
        test_deps = [],
        test_size = "small"):
    """Declares the proto, library and test of the quantizer plugin `name`.

    Args:
      name: the file stem (<name>.proto, <name>_quantizer.cc, <name>_quantizer_test.cc).
      visibility: of the proto, cc_proto and library targets (the test's is the default).
      deps: the library's deps beyond its options, //core:quantizer,
        //base:status_macros and Abseil's status and strings (its store, for one).
      proto_deps: proto_library deps of <name>.proto, if it imports any.
      test_deps: the test's deps beyond those listed above.
      test_size: the test's size.
    """
    kvlab_plugin_targets(
        stem = name,
        library = name + "_quantizer",
        library_deps = [Label("//core:quantizer"), Label("//base:status_macros")],
        test_deps = [Label("//core:quantizer")],
        visibility = visibility,
        deps = deps,
        proto_deps = proto_deps,
        extra_test_deps = test_deps,
        test_size = test_size,
    )

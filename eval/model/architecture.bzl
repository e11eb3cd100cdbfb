"""kvlab_architecture(): the Bazel targets of one model architecture (architecture.h).

An architecture is `<name>_architecture.cc` (its ModelConfig and Architecture and its
KVLAB_REGISTER_ARCHITECTURE line) and `<name>_architecture_test.cc`. One call declares:

    <name>_architecture        cc_library of <name>_architecture.cc, alwayslink (without
                               it the linker drops the self-registration, and the
                               architecture is unknown at run time)
    <name>_architecture_test   cc_test of <name>_architecture_test.cc, with the library,
                               the registry, kvlab's status matchers and the test main

    load("//eval/model:architecture.bzl", "kvlab_architecture")
    kvlab_architecture(name = "gemma3", deps = [":gemma3_config", ":gemma3_model"])

and every program that loads a model runs it once it is in all_architectures
(eval/model/BUILD).
"""

def kvlab_architecture(name, deps = [], test_deps = [], test_size = "small"):
    """Declares the library and test of the architecture `name`.

    Args:
      name: the architecture's registered name and file stem (<name>_architecture.cc).
      deps: the library's deps beyond the architecture interface, the decoder weights,
        Abseil's status and strings and kvlab's status macros.
      test_deps: the test's deps beyond those listed above.
      test_size: the test's size.
    """
    native.cc_library(
        name = name + "_architecture",
        srcs = [name + "_architecture.cc"],
        alwayslink = True,
        deps = [
            Label("//eval/model:architecture"),
            Label("//eval/model:decoder_weights"),
            Label("//base:status_macros"),
            Label("@abseil//:status"),
            Label("@abseil//:strings"),
        ] + deps,
    )
    native.cc_test(
        name = name + "_architecture_test",
        size = test_size,
        srcs = [name + "_architecture_test.cc"],
        deps = [
            ":" + name + "_architecture",
            Label("//eval/model:architecture"),
            Label("//base:status_matchers"),
            Label("//base:torch_test_main"),
        ] + test_deps,
    )

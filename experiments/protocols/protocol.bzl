"""kvlab_protocol(): the Bazel targets of one experiment protocol (protocol.h).

A protocol is a config message with its field in Experiment's `protocol` oneof
(experiments/experiment.proto), `<name>.cc` (the class and its KVLAB_REGISTER_PROTOCOL
line) and `<name>_test.cc`. One call declares:

    <name>        cc_library of <name>.cc, alwayslink (without it the linker drops the
                  self-registration, and the name is unknown at run time)
    <name>_test   cc_test of <name>_test.cc, with <name>, the protocol interface,
                  kvlab's status matchers and GoogleTest's main

    load("//experiments/protocols:protocol.bzl", "kvlab_protocol")
    kvlab_protocol(name = "chunked")

and the protocol is offered by every program that loads configs once it is in
all_protocols (experiments/protocols/BUILD).
"""

load("//base:test.bzl", "kvlab_test")

def kvlab_protocol(name, deps = [], test_deps = [], test_size = "small"):
    """Declares the library and test of the protocol `name`.

    Args:
      name: the protocol's name and file stem (<name>.cc, <name>_test.cc).
      deps: the library's deps beyond the protocol interface, Abseil's status and
        strings and kvlab's status macros.
      test_deps: the test's deps beyond those listed above.
      test_size: the test's size.
    """
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        alwayslink = True,
        deps = [
            Label("//experiments/protocols:protocol"),
            Label("//base:status_macros"),
            Label("@abseil//:status"),
            Label("@abseil//:strings"),
        ] + deps,
    )
    kvlab_test(
        name = name + "_test",
        size = test_size,
        deps = [
            ":" + name,
            Label("//experiments/protocols:protocol"),
            Label("//base:status_matchers"),
        ] + test_deps,
    )

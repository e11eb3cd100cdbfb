"""kvlab_test(): the cc_test every package writes, one source beside its code.

    load("//base:test.bzl", "kvlab_test")
    kvlab_test(
        name = "files_test",  # files_test.cc
        deps = [
            ":files",
            ":status_matchers",
        ],
    )

declares a small cc_test of files_test.cc on GoogleTest's main. A test that uses
LibTorch says `torch = True`: it then runs on //base:torch_test_main, which seeds
ATen's generator before every test so random inputs are the same on every run, and
links LibTorch. Any other cc_test attribute (data, args, tags, ...) passes through.
"""

def kvlab_test(name, deps = [], size = "small", srcs = None, torch = False, **kwargs):
    """Declares the cc_test `name` of `name`.cc.

    Args:
      name: the test's name and its source's stem.
      deps: what the test uses beyond its main (and LibTorch, when `torch`).
      size: the test's size.
      srcs: the sources, when they are more than `name`.cc.
      torch: runs on kvlab's LibTorch test main and links LibTorch, rather than
        GoogleTest's main.
      **kwargs: other attributes of cc_test.
    """
    if torch:
        main = [Label("//base:torch_test_main"), Label("@libtorch")]
    else:
        main = [Label("@googletest//:gtest_main")]
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs or [name + ".cc"],
        deps = deps + main,
        **kwargs
    )

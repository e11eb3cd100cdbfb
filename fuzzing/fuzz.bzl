"""kvlab_fuzz_target: one libFuzzer target and a test that replays its seed corpus.

A target is a .cc file defining

    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

(and, if it needs set-up, LLVMFuzzerInitialize), its seed corpus in
fuzz_corpus/<name>/ beside it, and one call in the package's BUILD:

    load("//fuzzing:fuzz.bzl", "kvlab_fuzz_target")
    kvlab_fuzz_target(
        name = "gguf_file_fuzzer",
        srcs = ["gguf_file_fuzzer.cc"],
        deps = [":gguf_file"],
    )

This declares
  <name>              the fuzzer: libFuzzer under --config=fuzz, otherwise a replayer;
  <name>_corpus_test  a test replaying fuzz_corpus/<name>/ (in `bazel test //...`).
fuzzing/run.sh finds every target by its "fuzz_target" tag.
"""

def kvlab_fuzz_target(name, srcs, deps = [], data = [], size = "small"):
    corpus = "fuzz_corpus/" + name
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        data = data,
        deps = deps + select({
            "//fuzzing:libfuzzer": [],
            "//conditions:default": ["//fuzzing:replay_main"],
        }),
        linkopts = select({
            "//fuzzing:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["fuzz_target"],
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = size,
        srcs = srcs,
        data = data + native.glob([corpus + "/**"]),
        args = [native.package_name() + "/" + corpus],
        deps = deps + ["//fuzzing:replay_main"],
    )

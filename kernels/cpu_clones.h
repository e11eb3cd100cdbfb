// KVLAB_CPU_CLONES: compile a hot CPU loop once per x86 level and run the best.
//
// kvlab builds for no particular CPU (.bazelrc: -march=x86-64-v2), so that one build
// runs on the AVX2 and the AVX-512 machines alike. A function marked with this
// attribute is compiled three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2, FMA)
// and the baseline; the loader picks the variant the running CPU supports (GCC's
// function multi-versioning, resolved once through an ifunc). Mark only the innermost
// function that holds the loop: a lambda or a function it calls but does not inline
// keeps the baseline. Internal to kernels/.
#ifndef KVLAB_KERNELS_CPU_CLONES_H_
#define KVLAB_KERNELS_CPU_CLONES_H_

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KVLAB_CPU_CLONES \
  [[gnu::target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")]]
#else
// Elsewhere (another architecture, clang's fuzzing build) the loop is compiled once, for
// the build's target.
#define KVLAB_CPU_CLONES
#endif

#endif  // KVLAB_KERNELS_CPU_CLONES_H_

// KeepFreedMemoryInProcess: tunes glibc's allocator for a process that runs a model.
//
// A forward pass frees and reallocates activations of several megabytes in every
// layer. By default glibc serves such blocks with mmap and returns them to the kernel
// on free (and trims the top of its heap), so the next layer's allocation of the same
// size page-faults fresh zeroed pages in again: several percent of a CPU forward pass.
// Raising the mmap and trim thresholds keeps freed blocks in the process for reuse.
//
//   int main(int argc, char** argv) {
//     kvlab::KeepFreedMemoryInProcess();
//     ...
//
// Call once at start-up, before the first large allocation. A no-op where the C
// library is not glibc.
#ifndef KVLAB_BASE_ALLOCATOR_H_
#define KVLAB_BASE_ALLOCATOR_H_

namespace kvlab {

void KeepFreedMemoryInProcess();

}  // namespace kvlab

#endif  // KVLAB_BASE_ALLOCATOR_H_

#include "base/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kvlab {

void KeepFreedMemoryInProcess() {
#if defined(__GLIBC__)
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit; blocks above it (a
  // chunk's logits) are rare enough that mapping them costs nothing noticeable.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Trim the heap's top only when more than 1 GiB of it is free.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace kvlab

// The data caches of the core this process runs on, for sizing GEMM blocks: a block tuned for one
// CPU's 2 MiB L2 thrashes another's 512 KiB one.
#pragma once

#include <cstddef>

namespace rnnkit {

struct CacheSizes {
  size_t l1d;  // bytes of L1 data cache per core
  size_t l2;   // bytes of L2 per core
};

// Read once from the OS (Linux sysfs, macOS sysctl, Windows); 32 KiB / 512 KiB where it says
// nothing (small enough for any CPU this runs on). RNNKIT_L2_BYTES overrides the L2 size (tests
// and benchmarks of the blocking).
const CacheSizes& cache_sizes();

}  // namespace rnnkit

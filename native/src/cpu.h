// What this CPU (and OS) can run.
#pragma once

namespace rnnkit {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA, with ymm state saved by the OS
  bool avx512f = false;   // AVX-512F, with zmm/opmask state saved by the OS
  bool neon = false;      // AArch64 Advanced SIMD
};

const CpuFeatures& cpu_features();

// Processors this process may run on (sched_getaffinity), at least 1.
int available_cores();

}  // namespace rnnkit

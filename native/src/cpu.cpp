#include "cpu.h"

#include <thread>

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>  // MSVC has no <cpuid.h> and no GCC inline assembly: __cpuidex, _xgetbv
#else
#include <cpuid.h>
#endif
#endif
#if defined(__linux__)
#include <sched.h>
#endif

namespace rnnkit {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
struct CpuidRegisters {
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// cpuid(leaf, subleaf); all zero for a leaf above the highest one the CPU reports.
CpuidRegisters cpuid(unsigned int leaf, unsigned int subleaf) {
  CpuidRegisters r;
#if defined(_MSC_VER) && !defined(__clang__)
  int regs[4];
  __cpuid(regs, static_cast<int>(leaf & 0x80000000u));
  if (static_cast<unsigned int>(regs[0]) < leaf) return r;
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
  r.eax = static_cast<unsigned int>(regs[0]);
  r.ebx = static_cast<unsigned int>(regs[1]);
  r.ecx = static_cast<unsigned int>(regs[2]);
  r.edx = static_cast<unsigned int>(regs[3]);
#else
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// xgetbv(0): which register states the OS saves on context switch. Only call it when cpuid says
// OSXSAVE (the instruction faults otherwise).
unsigned long long read_xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  unsigned int eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  const CpuidRegisters leaf1 = cpuid(1, 0);
  const bool fma = leaf1.ecx & (1u << 12);
  const bool osxsave = leaf1.ecx & (1u << 27);
  const bool avx = leaf1.ecx & (1u << 28);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;           // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;         // + opmask, ZMM_Hi256, Hi16_ZMM
  const CpuidRegisters leaf7 = cpuid(7, 0);
  const bool avx2 = leaf7.ebx & (1u << 5);
  const bool avx512f = leaf7.ebx & (1u << 16);
  f.avx2_fma = avx2 && fma && ymm_saved;
  f.avx512f = avx512f && f.avx2_fma && zmm_saved;
  return f;
}
#else
CpuFeatures detect() {
  CpuFeatures f;
#if defined(__aarch64__) || defined(_M_ARM64)
  f.neon = true;
#endif
  return f;
}
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

int available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace rnnkit

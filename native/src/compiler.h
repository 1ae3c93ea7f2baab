// Compiler-specific spellings, so the kernels build with GCC, Clang (and MinGW) and MSVC alike.
// Include at global scope (the ISA files include the *-inl.h kernels inside a namespace).
#pragma once

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>

// MSVC has no prefetch hints for writes or locality: every prefetch goes to all cache levels.
#if defined(_M_X64)
#define RNNKIT_PREFETCH(address, rw, locality) _mm_prefetch(reinterpret_cast<const char*>(address), _MM_HINT_T0)
#elif defined(_M_ARM64)
#define RNNKIT_PREFETCH(address, rw, locality) __prefetch(address)
#else
#define RNNKIT_PREFETCH(address, rw, locality) ((void)0)
#endif
// MSVC has no loop-unroll pragma; the loops are still correct, only unrolled at its discretion.
#define RNNKIT_UNROLL(count)

#else
// rw: 0 read, 1 write; locality 0-3 (3: keep in every cache level), as __builtin_prefetch.
#define RNNKIT_PREFETCH(address, rw, locality) __builtin_prefetch(address, rw, locality)
#define RNNKIT_PRAGMA(text) _Pragma(#text)
// Unrolls the next loop `count` times (GCC >= 8 and Clang read `#pragma GCC unroll`).
#define RNNKIT_UNROLL(count) RNNKIT_PRAGMA(GCC unroll count)
#endif

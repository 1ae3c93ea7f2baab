// Subnormal floats (|x| < 2^-126) count as zero while the core computes: FTZ and DAZ on x86, FZ on
// arm64, as TensorFlow's CPU kernels run. With them off, a float32 GEMM whose inputs are mostly
// subnormal ran 100× slower here (microcode assists on every FMA), and training makes them: nearly
// hard attention leaves weights of 1e-40 and their gradients behind them (examples/g2p slowed from
// 10,000 to 6,000 phonemes/s over nine epochs). Results differ from IEEE arithmetic only below 2^-126.
//
// Every public entry of the core holds a FlushSubnormals for its duration, so the JavaScript thread
// and libuv's workers get their own mode back on return; the pool's workers set it once for good.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <xmmintrin.h>
#elif defined(_M_ARM64)
#include <intrin.h>
#endif

namespace rnnkit {

namespace subnormals {

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
constexpr uint64_t kFlushBits = 0x8040;  // MXCSR: FTZ (bit 15) | DAZ (bit 6)
inline uint64_t read_mode() { return _mm_getcsr(); }
inline void write_mode(uint64_t mode) { _mm_setcsr(static_cast<unsigned>(mode)); }
#elif defined(__aarch64__)
constexpr uint64_t kFlushBits = uint64_t{1} << 24;  // FPCR.FZ: inputs and results
inline uint64_t read_mode() {
  uint64_t fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr;
}
inline void write_mode(uint64_t mode) { __asm__ __volatile__("msr fpcr, %0" : : "r"(mode)); }
#elif defined(_M_ARM64)
constexpr uint64_t kFlushBits = uint64_t{1} << 24;
inline uint64_t read_mode() { return _ReadStatusReg(ARM64_FPCR); }
inline void write_mode(uint64_t mode) { _WriteStatusReg(ARM64_FPCR, static_cast<__int64>(mode)); }
#else
constexpr uint64_t kFlushBits = 0;  // other targets compute IEEE subnormals
inline uint64_t read_mode() { return 0; }
inline void write_mode(uint64_t) {}
#endif

}  // namespace subnormals

// Flushes subnormals in this thread from construction to destruction, then restores the mode.
class FlushSubnormals {
 public:
  FlushSubnormals() : saved_(subnormals::read_mode()) {
    if ((saved_ & subnormals::kFlushBits) != subnormals::kFlushBits) subnormals::write_mode(saved_ | subnormals::kFlushBits);
  }
  ~FlushSubnormals() {
    if ((saved_ & subnormals::kFlushBits) != subnormals::kFlushBits) subnormals::write_mode(saved_);
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  uint64_t saved_;
};

// For threads that run only the core's work (the pool's workers): flush for good.
inline void flush_subnormals_for_good() { subnormals::write_mode(subnormals::read_mode() | subnormals::kFlushBits); }

}  // namespace rnnkit

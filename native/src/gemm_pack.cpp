// Both operands are packed by one routine: panels of `width` consecutive elements of the "wide"
// dimension w (rows of op(A), columns of op(B)), k-major inside: panel q holds w in
// [q·width, (q+1)·width) as [kc][width]. The source is contiguous either along w (a plain copy per
// k: A transposed, B as stored) or along k (a transpose: A as stored, B transposed), which is
// done in 4 × 4 blocks with SSE (x86-64 baseline) or NEON (AArch64 baseline).
#include "gemm_pack.h"

#include <algorithm>
#include <cstring>

#include "compiler.h"

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#define RNNKIT_PACK_SSE 1
#elif defined(__ARM_NEON) || defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>
#define RNNKIT_PACK_NEON 1
#endif

namespace rnnkit {
namespace {

// dst[q · dst_stride + r] = src[r · ld + q] for r, q in [0, 4).
inline void transpose_4x4(const float* src, size_t ld, float* dst, size_t dst_stride) {
#if RNNKIT_PACK_SSE
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ld);
  __m128 r2 = _mm_loadu_ps(src + 2 * ld), r3 = _mm_loadu_ps(src + 3 * ld);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + dst_stride, r1);
  _mm_storeu_ps(dst + 2 * dst_stride, r2);
  _mm_storeu_ps(dst + 3 * dst_stride, r3);
#elif RNNKIT_PACK_NEON
  const float32x4_t r0 = vld1q_f32(src), r1 = vld1q_f32(src + ld);
  const float32x4_t r2 = vld1q_f32(src + 2 * ld), r3 = vld1q_f32(src + 3 * ld);
  const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));  // r0[0] r1[0] r0[2] r1[2]
  const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));  // r0[1] r1[1] r0[3] r1[3]
  const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
  const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
  vst1q_f32(dst, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
  vst1q_f32(dst + dst_stride, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
  vst1q_f32(dst + 2 * dst_stride, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
  vst1q_f32(dst + 3 * dst_stride, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
#else
  for (int r = 0; r < 4; ++r) {
    for (int q = 0; q < 4; ++q) dst[q * dst_stride + r] = src[r * ld + q];
  }
#endif
}

// One panel from a source contiguous along k: dst[p · width + w] = src[w · ld + p] for w < count.
void transpose_panel(const float* src, size_t ld, int count, int kc, int width, float* dst) {
  int w = 0;
  for (; w + 4 <= count; w += 4) {
    const float* rows = src + w * ld;
    int p = 0;
    for (; p + 4 <= kc; p += 4) transpose_4x4(rows + p, ld, dst + static_cast<size_t>(p) * width + w, width);
    for (; p < kc; ++p) {
      for (int r = 0; r < 4; ++r) dst[static_cast<size_t>(p) * width + w + r] = rows[r * ld + p];
    }
  }
  for (; w < count; ++w) {
    const float* row = src + w * ld;
    for (int p = 0; p < kc; ++p) dst[static_cast<size_t>(p) * width + w] = row[p];
  }
  if (count < width) {
    for (int p = 0; p < kc; ++p) std::fill(dst + static_cast<size_t>(p) * width + count, dst + static_cast<size_t>(p + 1) * width, 0.0f);
  }
}

void transpose_panels(const float* src, size_t ld, int count, int kc, int width, size_t panel_stride, float* dst) {
  for (int w0 = 0; w0 < count; w0 += width, dst += panel_stride) {
    transpose_panel(src + w0 * ld, ld, std::min(width, count - w0), kc, width, dst);
  }
}

constexpr int kFloatsPerLine = 16;
constexpr int kPrefetchRows = 24;

// From a source contiguous along w: dst panel q, row p = src[p · ld + q · width …], one k row
// of the source at a time (so the source streams). kWidth > 0 fixes the width at compile time
// (constant-length copies); 0 takes it from `width`.
template <int kWidth>
void copy_panels(const float* src, size_t ld, int count, int kc, int width, size_t panel_size, float* dst) {
  const int w_size = kWidth > 0 ? kWidth : width;
  const int full = count / w_size, rest = count - full * w_size;
  for (int p = 0; p < kc; ++p) {
    const float* row = src + p * ld;
    // The source rows are short runs a page apart, which hardware prefetchers barely follow
    // (measured: a few % on a transposed A streaming from memory).
    for (int line = 0; line < count; line += kFloatsPerLine) RNNKIT_PREFETCH(row + kPrefetchRows * ld + line, 0, 3);
    float* d = dst + static_cast<size_t>(p) * w_size;
    for (int q = 0; q < full; ++q, row += w_size, d += panel_size) {
      std::memcpy(d, row, sizeof(float) * w_size);  // constant size when kWidth > 0: a few vector moves
    }
    if (rest > 0) {
      for (int i = 0; i < rest; ++i) d[i] = row[i];
      for (int i = rest; i < w_size; ++i) d[i] = 0.0f;
    }
  }
}

// The panel widths of the compiled-in micro-kernels get constant-length copies.
void copy_panels_any(const float* src, size_t ld, int count, int kc, int width, size_t panel_stride, float* dst) {
  switch (width) {
    case 4: return copy_panels<4>(src, ld, count, kc, width, panel_stride, dst);
    case 6: return copy_panels<6>(src, ld, count, kc, width, panel_stride, dst);
    case 8: return copy_panels<8>(src, ld, count, kc, width, panel_stride, dst);
    case 12: return copy_panels<12>(src, ld, count, kc, width, panel_stride, dst);
    case 14: return copy_panels<14>(src, ld, count, kc, width, panel_stride, dst);
    case 16: return copy_panels<16>(src, ld, count, kc, width, panel_stride, dst);
    case 32: return copy_panels<32>(src, ld, count, kc, width, panel_stride, dst);
    default: return copy_panels<0>(src, ld, count, kc, width, panel_stride, dst);
  }
}

// Element (w, p) is at src[p · ld + w] when w_contiguous, else at src[w · ld + p]; panels
// panel_stride floats apart.
void pack_panels(const float* src, size_t ld, bool w_contiguous, int count, int kc, int width, size_t panel_stride,
                 float* dst) {
  if (w_contiguous) {
    copy_panels_any(src, ld, count, kc, width, panel_stride, dst);
  } else {
    transpose_panels(src, ld, count, kc, width, panel_stride, dst);
  }
}

}  // namespace

void pack_a(const Operand& a, int row0, int col0, int mc, int kc, int mr, float* dst, size_t panel_stride) {
  pack_panels(a.at(row0, col0), a.ld, a.transposed, mc, kc, mr, panel_stride ? panel_stride : size_t(kc) * mr, dst);
}

void pack_b(const Operand& b, int row0, int col0, int kc, int nc, int nr, float* dst) {
  pack_panels(b.at(row0, col0), b.ld, !b.transposed, nc, kc, nr, size_t(kc) * nr, dst);
}

}  // namespace rnnkit

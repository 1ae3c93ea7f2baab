// AVX-512F (16 floats per vector). Built with -mavx512f; called only when the CPU has it and the OS
// saves the zmm state (checked with xgetbv).
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "../src/compiler.h"
#include "../src/kernels.h"

namespace rnnkit {
namespace avx512 {

#include "vec_scalar-inl.h"

struct Vec {
  using T = __m512;
  static constexpr int width = 16;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T mul_add(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T sqrt(T x) { return _mm512_sqrt_ps(x); }
  static T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2i(T n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static T where_positive(T mask_src, T a) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mask_src, _mm512_setzero_ps(), _CMP_GT_OQ), a);
  }
  static T select_less(T a, T b, T x, T y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x); }
};
constexpr int kGemmMR = 14;
constexpr int kGemmNV = 2;  // 14 × 32 tile: 28 accumulators + 2 B vectors + 1 broadcast

#include "gemm-inl.h"
#include "pointwise-inl.h"
#include "optim-inl.h"
#include "table-inl.h"

extern const Kernels table = make_table("avx512");

}  // namespace avx512
}  // namespace rnnkit

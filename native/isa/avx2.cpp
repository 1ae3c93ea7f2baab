// AVX2 + FMA (8 floats per vector). Built with -mavx2 -mfma; called only when the CPU has both.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "../src/compiler.h"
#include "../src/kernels.h"

namespace rnnkit {
namespace avx2 {

#include "vec_scalar-inl.h"

struct Vec {
  using T = __m256;
  static constexpr int width = 8;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T mul_add(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T sqrt(T x) { return _mm256_sqrt_ps(x); }
  static T round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2i(T n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static T where_positive(T mask_src, T a) {
    return _mm256_and_ps(_mm256_cmp_ps(mask_src, _mm256_setzero_ps(), _CMP_GT_OQ), a);
  }
  static T select_less(T a, T b, T x, T y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
};
constexpr int kGemmMR = 6;
constexpr int kGemmNV = 2;  // 6 × 16 tile: 12 accumulators + 2 B vectors + 1 broadcast

#include "gemm-inl.h"
#include "pointwise-inl.h"
#include "optim-inl.h"
#include "table-inl.h"

extern const Kernels table = make_table("avx2");

}  // namespace avx2
}  // namespace rnnkit

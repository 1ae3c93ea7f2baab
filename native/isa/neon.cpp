// NEON (arm64, 4 floats per vector). Always available on AArch64.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "../src/compiler.h"
#include "../src/kernels.h"

namespace rnnkit {
namespace neon {

#include "vec_scalar-inl.h"

struct Vec {
  using T = float32x4_t;
  static constexpr int width = 4;
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static T set1(float x) { return vdupq_n_f32(x); }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  static T sub(T a, T b) { return vsubq_f32(a, b); }
  static T mul(T a, T b) { return vmulq_f32(a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T mul_add(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  static T max(T a, T b) { return vmaxq_f32(a, b); }
  static T min(T a, T b) { return vminq_f32(a, b); }
  static T sqrt(T x) { return vsqrtq_f32(x); }
  static T round(T x) { return vrndnq_f32(x); }
  static T pow2i(T n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  static T where_positive(T mask_src, T a) {
    return vreinterpretq_f32_u32(vandq_u32(vcgtq_f32(mask_src, vdupq_n_f32(0.0f)), vreinterpretq_u32_f32(a)));
  }
  static T select_less(T a, T b, T x, T y) { return vbslq_f32(vcltq_f32(a, b), x, y); }
  // Lane `lane` of v in every lane; with a constant lane GCC fuses it into FMLA (by element).
  static T broadcast_lane(T v, int lane) { return vdupq_n_f32(v[lane]); }
};
constexpr int kGemmMR = 8;
constexpr int kGemmNV = 3;  // 8 × 12 tile: 24 accumulators + 3 B vectors + broadcasts

#include "gemm-inl.h"
#include "pointwise-inl.h"
#include "optim-inl.h"
#include "table-inl.h"

extern const Kernels table = make_table("neon");

}  // namespace neon
}  // namespace rnnkit

// One-lane "vector" with the same interface as the SIMD Vec types. Included INSIDE each ISA's
// namespace (never at global scope) so every ISA gets its own copy: the scalar reference in
// scalar.cpp, and the tail handler of the SIMD files.
// Semantics every Vec shares: max(a, b) = a > b ? a : b and min(a, b) = a < b ? a : b, so a NaN in
// b passes through (x86 maxps/minps behave this way; NEON propagates NaN from either operand).

struct ScalarVec {
  using T = float;
  static constexpr int width = 1;
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static T set1(float x) { return x; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T mul_add(T a, T b, T c) { return a * b + c; }
  static T max(T a, T b) { return a > b ? a : b; }
  static T min(T a, T b) { return a < b ? a : b; }
  static T sqrt(T x) { return std::sqrt(x); }  // correctly rounded, like the SIMD sqrt
  static T round(T x) { return std::nearbyint(x); }
  // 2^n for integral n in [-126, 127]. A NaN n (from a NaN input, whose result is NaN anyway)
  // gives 1: converting NaN to int, or shifting a negative int, would be undefined behaviour.
  static T pow2i(T n) {
    const unsigned bits = static_cast<unsigned>(n == n ? static_cast<int>(n) + 127 : 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
  // a where mask_src > 0, else 0 (ReLU's derivative).
  static T where_positive(T mask_src, T a) { return mask_src > 0.0f ? a : 0.0f; }
  static T select_less(T a, T b, T x, T y) { return a < b ? x : y; }  // a < b ? x : y, lane by lane (NaN: y)
};

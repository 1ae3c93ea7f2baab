// Optimizer updates and the gradient-clipping reductions, written once over the Vec interface and
// included inside each ISA's namespace after pointwise-inl.h (uses its for_each_lane).
//
// Every update repeats torch.optim's single-tensor code (1.13) one fp32 tensor op at a time, in its
// order, with PyTorch's CPU kernels' roundings (measured on torch 1.13, AVX2 build):
//   a.add_(b, alpha=s)          → fma(b, s, a)               (ATen: vec::fmadd)
//   a.addcmul_(b, c, value=s)   → fma(s·b, c, a)             (a + s·b·c, contracted by the compiler)
//   a.addcdiv_(b, c, value=s)   → a + (s·b) / c              (no contraction across the division)
//   a.mul_(s), a / s, sqrt, max → one rounding each
// so a SIMD table agrees with PyTorch bit for bit on most elements. The scalar table has no FMA on
// x86, so its fused steps may differ by an ulp (tests compare ISAs with a few-ulp tolerance).

// The roundings above need two guarantees the compiler does not give by default: GCC contracts a
// product feeding an addition into an FMA (-ffp-contract=fast, even across intrinsics), and the
// scalar tail's a·b + c is only fused if the compiler chooses to. So every product PyTorch rounds
// on its own passes through rounded(), and every fused step goes through fused().
template <class T>
static inline T rounded(T x) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(x));  // opaque: the product is materialized (rounded) before its use
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(x));
#endif
  return x;
}

template <class V>
static inline typename V::T mul_rounded(typename V::T a, typename V::T b) {
  return rounded(V::mul(a, b));
}

// a·b + c with one rounding (the SIMD types' mul_add is always fused; the scalar one is fused here
// whenever the target has an FMA instruction — not in the x86 scalar table).
template <class V>
static inline typename V::T fused(typename V::T a, typename V::T b, typename V::T c) {
  return V::mul_add(a, b, c);
}
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
template <>
inline float fused<ScalarVec>(float a, float b, float c) {
  return std::fma(a, b, c);  // one instruction here: the target has FMA
}
#endif

// −g when maximizing (PyTorch negates the gradient tensor first).
template <class V>
static inline typename V::T signed_grad(const float* grad, int j, bool maximize) {
  const auto g = V::load(grad + j);
  return maximize ? V::mul(g, V::set1(-1.0f)) : g;
}

// d = d + wd·p (PyTorch: grad.add(param, alpha=weight_decay)), skipped when wd = 0.
template <class V>
static inline typename V::T add_weight_decay(typename V::T g, typename V::T p, float weight_decay) {
  return weight_decay != 0.0f ? fused<V>(p, V::set1(weight_decay), g) : g;
}

// param [n], grad [n], momentum_buffer [n] (nullptr when momentum = 0).
static void sgd_step(float* param, const float* grad, float* momentum_buffer, int n, const SgdCoefs& c) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const auto p = V::load(param + j);
    auto d = add_weight_decay<V>(signed_grad<V>(grad, j, c.maximize), p, c.weight_decay);
    if (c.momentum != 0.0f) {
      auto buf = d;
      if (!c.first_step) {
        buf = fused<V>(d, V::set1(c.one_minus_dampening), mul_rounded<V>(V::load(momentum_buffer + j), V::set1(c.momentum)));
      }
      V::store(momentum_buffer + j, buf);
      d = c.nesterov ? fused<V>(buf, V::set1(c.momentum), d) : buf;
    }
    V::store(param + j, fused<V>(d, V::set1(c.neg_lr), p));
  });
}

// param, grad, exp_avg, exp_avg_sq [n]; max_exp_avg_sq [n] when amsgrad (else nullptr).
static void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
                      int n, const AdamCoefs& c) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    auto p = V::load(param + j);
    if (c.decoupled) p = mul_rounded<V>(p, V::set1(c.decay_factor));
    const auto g = add_weight_decay<V>(signed_grad<V>(grad, j, c.maximize), p, c.weight_decay);
    const auto m = fused<V>(g, V::set1(c.one_minus_beta1), mul_rounded<V>(V::load(exp_avg + j), V::set1(c.beta1)));
    const auto s = fused<V>(V::mul(V::set1(c.one_minus_beta2), g), g,
                              mul_rounded<V>(V::load(exp_avg_sq + j), V::set1(c.beta2)));
    V::store(exp_avg + j, m);
    V::store(exp_avg_sq + j, s);
    auto second_moment = s;
    if (c.amsgrad) {
      // torch.maximum; a NaN in s reaches the max (Vec::max passes a NaN second operand through).
      second_moment = V::max(V::load(max_exp_avg_sq + j), s);
      V::store(max_exp_avg_sq + j, second_moment);
    }
    const auto denom = V::add(V::div(V::sqrt(second_moment), V::set1(c.bias_correction2_sqrt)), V::set1(c.eps));
    V::store(param + j, V::add(p, V::div(V::mul(V::set1(c.neg_step_size), m), denom)));
  });
}

// param, grad, square_avg [n]; grad_avg [n] when centered; momentum_buffer [n] when momentum > 0.
static void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* momentum_buffer,
                         int n, const RmspropCoefs& c) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const auto p = V::load(param + j);
    const auto g = add_weight_decay<V>(signed_grad<V>(grad, j, c.maximize), p, c.weight_decay);
    const auto sq = fused<V>(V::mul(V::set1(c.one_minus_alpha), g), g, mul_rounded<V>(V::load(square_avg + j), V::set1(c.alpha)));
    V::store(square_avg + j, sq);
    auto variance = sq;
    if (c.centered) {
      const auto ga = fused<V>(g, V::set1(c.one_minus_alpha), mul_rounded<V>(V::load(grad_avg + j), V::set1(c.alpha)));
      V::store(grad_avg + j, ga);
      variance = fused<V>(V::mul(V::set1(-1.0f), ga), ga, sq);  // square_avg.addcmul(ga, ga, value=-1)
    }
    const auto avg = V::add(V::sqrt(variance), V::set1(c.eps));
    if (c.momentum > 0.0f) {
      const auto buf = V::add(mul_rounded<V>(V::load(momentum_buffer + j), V::set1(c.momentum)), V::div(g, avg));
      V::store(momentum_buffer + j, buf);
      V::store(param + j, fused<V>(buf, V::set1(c.neg_lr), p));
    } else {
      V::store(param + j, V::add(p, V::div(V::mul(V::set1(c.neg_lr), g), avg)));
    }
  });
}

// param, grad, sum [n].
static void adagrad_step(float* param, const float* grad, float* sum, int n, const AdagradCoefs& c) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const auto p = V::load(param + j);
    const auto g = add_weight_decay<V>(signed_grad<V>(grad, j, c.maximize), p, c.weight_decay);
    const auto s = fused<V>(g, g, V::load(sum + j));  // state_sum.addcmul_(g, g, value=1)
    V::store(sum + j, s);
    const auto std_dev = V::add(V::sqrt(s), V::set1(c.eps));
    V::store(param + j, V::add(p, V::div(V::mul(V::set1(c.neg_clr), g), std_dev)));
  });
}

// ---- Reductions for clip_grad_norm_ -------------------------------------------------------------

// Sum of the lanes of a vector, in double.
template <class V>
static inline double lane_sum(typename V::T x) {
  float lanes[V::width];
  V::store(lanes, x);
  double total = 0.0;
  for (float lane : lanes) total += lane;
  return total;
}

template <class V>
static inline typename V::T abs_v(typename V::T x) {
  return V::max(x, V::sub(V::set1(0.0f), x));
}

// Σ f(x) in double: blocks of 16 vectors go through 4 fp32 accumulators (each lane adds 4 terms, so
// the fp32 error stays a few ulp of the block sum), then into a double; the tail is added in double.
template <class Term>
static double blocked_sum(const float* x, int n, Term&& term) {
  constexpr int kAccumulators = 4, kBlock = 16 * Vec::width;
  double total = 0.0;
  int i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    typename Vec::T acc[kAccumulators];
    for (auto& a : acc) a = Vec::set1(0.0f);
    for (int j = 0; j < kBlock; j += kAccumulators * Vec::width) {
      for (int k = 0; k < kAccumulators; ++k) acc[k] = term(Vec{}, Vec::load(x + i + j + k * Vec::width), acc[k]);
    }
    total += lane_sum<Vec>(Vec::add(Vec::add(acc[0], acc[1]), Vec::add(acc[2], acc[3])));
  }
  for (; i < n; ++i) total += term(ScalarVec{}, x[i], 0.0f);
  return total;
}

// Σ x², the square of the 2-norm.
static double sum_squares(const float* x, int n) {
  return blocked_sum(x, n, [](auto v, auto xv, auto acc) {
    using V = decltype(v);
    return V::mul_add(xv, xv, acc);
  });
}

// Σ |x|, the 1-norm.
static double sum_abs(const float* x, int n) {
  return blocked_sum(x, n, [](auto v, auto xv, auto acc) {
    using V = decltype(v);
    return V::add(abs_v<V>(xv), acc);
  });
}

// max |x| (0 for n = 0), NaN if any element is NaN (like torch.max).
static float abs_max(const float* x, int n) {
  auto best = Vec::set1(0.0f);
  auto non_finite = Vec::set1(0.0f);  // stays 0 unless some x·0 is NaN (x is ±inf or NaN)
  int i = 0;
  for (; i + Vec::width <= n; i += Vec::width) {
    const auto xv = Vec::load(x + i);
    best = Vec::max(best, abs_v<Vec>(xv));
    non_finite = Vec::add(non_finite, Vec::mul(xv, Vec::set1(0.0f)));
  }
  float lanes[Vec::width];
  Vec::store(lanes, best);
  float result = 0.0f;
  for (float lane : lanes) result = lane > result ? lane : result;
  bool maybe_nan = lane_sum<Vec>(non_finite) != 0.0;  // NaN compares unequal to 0
  for (; i < n; ++i) {
    const float a = x[i] < 0.0f ? -x[i] : x[i];
    result = a > result ? a : result;
    maybe_nan = maybe_nan || x[i] != x[i];
  }
  // Vec::max can drop a NaN; rescan in that (rare) case.
  if (maybe_nan) {
    for (int k = 0; k < n; ++k) {
      if (x[k] != x[k]) return x[k];
    }
  }
  return result;
}

// x *= factor.
static void scale_array(float* x, float factor, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(x + j, V::mul(V::load(x + j), V::set1(factor)));
  });
}

// x = min(max(x, lo), hi), NaN stays NaN (torch.clamp_).
static void clamp_array(float* x, float lo, float hi, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(x + j, V::min(V::set1(hi), V::max(V::set1(lo), V::load(x + j))));
  });
}

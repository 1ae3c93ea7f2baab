// Activations and the fused per-unit gate kernels, written once over a Vec interface and included
// inside each ISA's namespace (so each ISA gets private copies; nothing is shared across ISA flags).
// Needs: Vec (the ISA's vector type) and ScalarVec (for tails) in the enclosing namespace.

// Runs body(V{}, j) over [0, n): whole vectors first, then the tail one lane at a time.
template <class Body>
static inline void for_each_lane(int n, Body&& body) {
  int j = 0;
  for (; j + Vec::width <= n; j += Vec::width) body(Vec{}, j);
  for (; j < n; ++j) body(ScalarVec{}, j);
}

// exp(x) to ~2 ulp (Cephes expf): x = n·ln2 + r, |r| ≤ ln2/2, degree-5 polynomial for e^r, then the
// 2^n scaling through the exponent bits. x is clamped so 2^n stays a normal float (exp saturates to
// ~1.6e38 / ~1.2e-38 instead of inf / 0); NaN passes through the clamp (see the Vec max/min rule).
template <class V>
static inline typename V::T exp_approx(typename V::T x) {
  using T = typename V::T;
  x = V::min(V::set1(88.0f), V::max(V::set1(-87.33654f), x));
  const T n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  T r = V::mul_add(n, V::set1(-0.693359375f), x);
  r = V::mul_add(n, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::mul_add(p, r, V::set1(1.3981999507e-3f));
  p = V::mul_add(p, r, V::set1(8.3334519073e-3f));
  p = V::mul_add(p, r, V::set1(4.1665795894e-2f));
  p = V::mul_add(p, r, V::set1(1.6666665459e-1f));
  p = V::mul_add(p, r, V::set1(5.0000001201e-1f));
  const T e_r = V::mul_add(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::mul(e_r, V::pow2i(n));
}

// σ(x) = 1 / (1 + e^−x): 0 and 1 at ∓∞ (to 1e-38), NaN in → NaN out.
template <class V>
static inline typename V::T sigmoid_v(typename V::T x) {
  const typename V::T one = V::set1(1.0f);
  return V::div(one, V::add(one, exp_approx<V>(V::sub(V::set1(0.0f), x))));
}

// tanh(x) = 2σ(2x) − 1: absolute error ≈ 1.2e-7, exactly ±1 at ±∞.
template <class V>
static inline typename V::T tanh_v(typename V::T x) {
  return V::mul_add(V::set1(2.0f), sigmoid_v<V>(V::add(x, x)), V::set1(-1.0f));
}

// 1 − a² and a(1 − a): the derivatives of tanh and σ from their outputs.
template <class V>
static inline typename V::T one_minus_square(typename V::T a) {
  return V::sub(V::set1(1.0f), V::mul(a, a));
}
template <class V>
static inline typename V::T sigmoid_slope(typename V::T a) {
  return V::mul(a, V::sub(V::set1(1.0f), a));
}

static void sigmoid_array(float* y, const float* x, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(y + j, sigmoid_v<V>(V::load(x + j)));
  });
}

static void tanh_array(float* y, const float* x, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(y + j, tanh_v<V>(V::load(x + j)));
  });
}

static void lstm_forward(float* gates, int gs, float* c, float* h, const float* c_prev, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    float* g = gates + j;
    const auto i_t = sigmoid_v<V>(V::load(g));
    const auto f_t = sigmoid_v<V>(V::load(g + gs));
    const auto g_t = tanh_v<V>(V::load(g + 2 * gs));
    const auto o_t = sigmoid_v<V>(V::load(g + 3 * gs));
    const auto c_t = V::mul_add(f_t, V::load(c_prev + j), V::mul(i_t, g_t));
    V::store(g, i_t);
    V::store(g + gs, f_t);
    V::store(g + 2 * gs, g_t);
    V::store(g + 3 * gs, o_t);
    V::store(c + j, c_t);
    V::store(h + j, V::mul(o_t, tanh_v<V>(c_t)));
  });
}

// dc_prev may alias dc_next.
static void lstm_backward(float* dgates, int gs, float* dc_prev, const float* gates, const float* c,
                          const float* c_prev, const float* dh, const float* dc_next, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const float* g = gates + j;
    const auto i_t = V::load(g);
    const auto f_t = V::load(g + gs);
    const auto g_t = V::load(g + 2 * gs);
    const auto o_t = V::load(g + 3 * gs);
    const auto dh_t = V::load(dh + j);
    const auto tanh_c = tanh_v<V>(V::load(c + j));
    const auto dc = V::mul_add(V::mul(dh_t, o_t), one_minus_square<V>(tanh_c), V::load(dc_next + j));
    float* dg = dgates + j;
    V::store(dg, V::mul(V::mul(dc, g_t), sigmoid_slope<V>(i_t)));
    V::store(dg + gs, V::mul(V::mul(dc, V::load(c_prev + j)), sigmoid_slope<V>(f_t)));
    V::store(dg + 2 * gs, V::mul(V::mul(dc, i_t), one_minus_square<V>(g_t)));
    V::store(dg + 3 * gs, V::mul(V::mul(dh_t, tanh_c), sigmoid_slope<V>(o_t)));
    V::store(dc_prev + j, V::mul(dc, f_t));
  });
}

static void gru_forward(float* gates, int gs, const float* hh, const float* b_hh, float* hn, float* h,
                        const float* h_prev, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    float* g = gates + j;
    const auto r_t = sigmoid_v<V>(V::add(V::load(g), V::add(V::load(hh + j), V::load(b_hh + j))));
    const auto z_t = sigmoid_v<V>(
        V::add(V::load(g + gs), V::add(V::load(hh + gs + j), V::load(b_hh + gs + j))));
    const auto hn_t = V::add(V::load(hh + 2 * gs + j), V::load(b_hh + 2 * gs + j));
    const auto n_t = tanh_v<V>(V::mul_add(r_t, hn_t, V::load(g + 2 * gs)));
    V::store(g, r_t);
    V::store(g + gs, z_t);
    V::store(g + 2 * gs, n_t);
    if (hn) V::store(hn + j, hn_t);
    V::store(h + j, V::mul_add(z_t, V::sub(V::load(h_prev + j), n_t), n_t));
  });
}

// dh_prev may alias dh.
static void gru_backward(float* dgates_x, float* dgates_h, int gs, float* dh_prev, const float* gates,
                         const float* hn, const float* h_prev, const float* dh, int n) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const float* g = gates + j;
    const auto r_t = V::load(g);
    const auto z_t = V::load(g + gs);
    const auto n_t = V::load(g + 2 * gs);
    const auto dh_t = V::load(dh + j);
    const auto dn = V::mul(V::mul(dh_t, V::sub(V::set1(1.0f), z_t)), one_minus_square<V>(n_t));
    const auto dz = V::mul(V::mul(dh_t, V::sub(V::load(h_prev + j), n_t)), sigmoid_slope<V>(z_t));
    const auto dr = V::mul(V::mul(dn, V::load(hn + j)), sigmoid_slope<V>(r_t));
    V::store(dgates_x + j, dr);
    V::store(dgates_x + gs + j, dz);
    V::store(dgates_x + 2 * gs + j, dn);
    V::store(dgates_h + j, dr);
    V::store(dgates_h + gs + j, dz);
    V::store(dgates_h + 2 * gs + j, V::mul(dn, r_t));
    V::store(dh_prev + j, V::mul(dh_t, z_t));
  });
}

static void rnn_forward(float* h, const float* pre, int n, bool relu) {
  if (relu) {
    for_each_lane(n, [&](auto v, int j) {
      using V = decltype(v);
      V::store(h + j, V::max(V::set1(0.0f), V::load(pre + j)));
    });
  } else {
    tanh_array(h, pre, n);
  }
}

static void rnn_backward(float* dpre, const float* h, const float* dh, int n, bool relu) {
  for_each_lane(n, [&](auto v, int j) {
    using V = decltype(v);
    const auto h_t = V::load(h + j);
    const auto dh_t = V::load(dh + j);
    V::store(dpre + j, relu ? V::where_positive(h_t, dh_t) : V::mul(dh_t, one_minus_square<V>(h_t)));
  });
}

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

// tanh(x) to a few ulp relative: 2σ(2x) − 1 (absolute error 1.2e-7, so relative ≤ 2.2e-7 once
// |tanh| ≥ 0.55; exactly ±1 at saturation; NaN propagates) for |x| ≥ 0.625, and below it Eigen's
// rational approximation (odd degree 13 over even degree 6), accurate relative to tiny values too.
// The tensor op's kernel; the fused cells use tanh_v.
template <class V>
static inline typename V::T tanh_accurate_v(typename V::T x) {
  using T = typename V::T;
  const T x2 = V::mul(x, x);
  T p = V::mul_add(x2, V::set1(-2.76076847742355e-16f), V::set1(2.00018790482477e-13f));
  p = V::mul_add(x2, p, V::set1(-8.60467152213735e-11f));
  p = V::mul_add(x2, p, V::set1(5.12229709037114e-08f));
  p = V::mul_add(x2, p, V::set1(1.48572235717979e-05f));
  p = V::mul_add(x2, p, V::set1(6.37261928875436e-04f));
  p = V::mul_add(x2, p, V::set1(4.89352455891786e-03f));
  T q = V::mul_add(x2, V::set1(1.19825839466702e-06f), V::set1(1.18534705686654e-04f));
  q = V::mul_add(x2, q, V::set1(2.26843463243900e-03f));
  q = V::mul_add(x2, q, V::set1(4.89352518554385e-03f));
  return V::select_less(x2, V::set1(0.390625f), V::div(V::mul(x, p), q), tanh_v<V>(x));  // 0.390625 = 0.625²
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
    V::store(y + j, tanh_accurate_v<V>(V::load(x + j)));
  });
}

// ---- The cells' fused kernels (see CellStep / CellGradStep in kernels.h) ---------------------------
// Each kernel first copies the fields it uses out of the step: the vector stores may alias anything
// (the intrinsics' types are may_alias), so a pointer read through `s` in the loop would be
// reloaded for every vector.

static void lstm_forward(const CellStep& s) {
  float* const gates = s.gates;
  float* const c = s.c;
  float* const h = s.h;
  const float* const c_prev = s.c_prev;
  const int gs = s.gs;
  for_each_lane(s.n, [&](auto v, int j) {
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

// dc ⊙ f becomes the gradient of c_prev, in place.
static void lstm_backward(const CellGradStep& s) {
  float* const dgates = s.dgates;
  float* const dc_state = s.dc;
  const float* const gates = s.gates;
  const float* const c = s.c;
  const float* const c_prev = s.c_prev;
  const float* const dh = s.dh;
  const int gs = s.gs;
  for_each_lane(s.n, [&](auto v, int j) {
    using V = decltype(v);
    const float* g = gates + j;
    const auto i_t = V::load(g);
    const auto f_t = V::load(g + gs);
    const auto g_t = V::load(g + 2 * gs);
    const auto o_t = V::load(g + 3 * gs);
    const auto dh_t = V::load(dh + j);
    const auto tanh_c = tanh_v<V>(V::load(c + j));
    const auto dc = V::mul_add(V::mul(dh_t, o_t), one_minus_square<V>(tanh_c), V::load(dc_state + j));
    float* dg = dgates + j;
    V::store(dg, V::mul(V::mul(dc, g_t), sigmoid_slope<V>(i_t)));
    V::store(dg + gs, V::mul(V::mul(dc, V::load(c_prev + j)), sigmoid_slope<V>(f_t)));
    V::store(dg + 2 * gs, V::mul(V::mul(dc, i_t), one_minus_square<V>(g_t)));
    V::store(dg + 3 * gs, V::mul(V::mul(dh_t, tanh_c), sigmoid_slope<V>(o_t)));
    V::store(dc_state + j, V::mul(dc, f_t));
  });
}

// gates: x·W_ihᵀ + b_ih in, r, z, n out; h = (1 − z) ⊙ n + z ⊙ h_prev, n = tanh(x_n + r ⊙ hn).
static void gru_forward(const CellStep& s) {
  float* const gates = s.gates;
  float* const hn = s.hn;
  float* const h = s.h;
  const float* const hh = s.hh;
  const float* const b_hh = s.b_hh;
  const float* const h_prev = s.h_prev;
  const int gs = s.gs;
  for_each_lane(s.n, [&](auto v, int j) {
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

// dgates: (dr, dz, dn); dgates_h: (dr, dz, dn ⊙ r); dh_prev = dh ⊙ z (may alias dh).
static void gru_backward(const CellGradStep& s) {
  float* const dgates_x = s.dgates;
  float* const dgates_h = s.dgates_h;
  float* const dh_prev = s.dh_prev;
  const float* const gates = s.gates;
  const float* const hn = s.hn;
  const float* const h_prev = s.h_prev;
  const float* const dh = s.dh;
  const int gs = s.gs;
  for_each_lane(s.n, [&](auto v, int j) {
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

// Vanilla RNN: h = act(pre), pre = the one gate block; backward from the output h.
static void rnn_tanh_forward(const CellStep& s) { tanh_array(s.h, s.gates, s.n); }

static void rnn_relu_forward(const CellStep& s) {
  float* const h = s.h;
  const float* const pre = s.gates;
  for_each_lane(s.n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(h + j, V::max(V::set1(0.0f), V::load(pre + j)));
  });
}

static void rnn_tanh_backward(const CellGradStep& s) {
  float* const dpre = s.dgates;
  const float* const h = s.h;
  const float* const dh = s.dh;
  for_each_lane(s.n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(dpre + j, V::mul(V::load(dh + j), one_minus_square<V>(V::load(h + j))));
  });
}

static void rnn_relu_backward(const CellGradStep& s) {
  float* const dpre = s.dgates;
  const float* const h = s.h;
  const float* const dh = s.dh;
  for_each_lane(s.n, [&](auto v, int j) {
    using V = decltype(v);
    V::store(dpre + j, V::where_positive(V::load(h + j), V::load(dh + j)));
  });
}

// Every cell's kernels, by name (table-inl.h refuses to compile a table that misses one).
static constexpr void set_cell_kernels(Kernels& k) {
  k.cells[static_cast<int>(Cell::RnnTanh)] = {rnn_tanh_forward, rnn_tanh_backward};
  k.cells[static_cast<int>(Cell::RnnRelu)] = {rnn_relu_forward, rnn_relu_backward};
  k.cells[static_cast<int>(Cell::Lstm)] = {lstm_forward, lstm_backward};
  k.cells[static_cast<int>(Cell::Gru)] = {gru_forward, gru_backward};
}

// Activations and fused gate kernels of the ISA under test: accuracy against libm in double,
// saturation, NaN propagation, and agreement with the scalar reference on awkward lengths.
#include <cmath>
#include <limits>

#include "harness.h"

using namespace rnnkit;
using namespace rnnkit_test;

namespace {

const int kLengths[] = {1, 3, 7, 8, 15, 16, 17, 33, 100};

// Largest |approx − exact| over a dense grid of [-20, 20].
template <class Exact>
double max_error(void (*approx)(float*, const float*, int), Exact exact) {
  const int n = 400001;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = -20.0f + 40.0f * static_cast<float>(i) / (n - 1);
  approx(y.data(), x.data(), n);
  double worst = 0.0;
  for (int i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(y[i] - exact(static_cast<double>(x[i]))));
  return worst;
}

}  // namespace

TEST(activations_within_1e6_absolute_on_minus20_to_20) {
  const double sigmoid_error = max_error(isa().sigmoid, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  const double tanh_error = max_error(isa().tanh, [](double v) { return std::tanh(v); });
  std::printf("  max abs error: sigmoid %.3g, tanh %.3g\n", sigmoid_error, tanh_error);
  CHECK(sigmoid_error <= 1e-6);
  CHECK(tanh_error <= 1e-6);
}

TEST(activations_saturate_and_propagate_nan) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 17 values: a full vector for every width plus a tail.
  std::vector<float> x = {inf, -inf, nan, 100.0f, -100.0f, 0.0f, -0.0f, 88.5f, -88.5f,
                          1e-30f, -1e-30f, 9.0f, -9.0f, 30.0f, -30.0f, nan, inf};
  std::vector<float> s(x.size()), t(x.size());
  isa().sigmoid(s.data(), x.data(), static_cast<int>(x.size()));
  isa().tanh(t.data(), x.data(), static_cast<int>(x.size()));
  CHECK(s[0] == 1.0f && t[0] == 1.0f);
  CHECK(s[1] <= 1e-37f && s[1] >= 0.0f && t[1] == -1.0f);
  CHECK(std::isnan(s[2]) && std::isnan(t[2]) && std::isnan(s[15]) && std::isnan(t[15]));
  CHECK(s[3] == 1.0f && t[3] == 1.0f && t[4] == -1.0f && s[4] <= 1e-37f);
  CHECK(s[5] == 0.5f && t[5] == 0.0f && t[6] == 0.0f);
  CHECK(s[16] == 1.0f && t[16] == 1.0f);
  // Tail lanes and vector lanes give the same value for the same input.
  CHECK(s[0] == s[16] && t[0] == t[16]);
}

TEST(gate_kernels_match_scalar_on_awkward_lengths) {
  const Kernels& ref = reference();
  uint32_t seed = 1;
  for (int n : kLengths) {
    const int gs = n + 5;  // gate stride wider than the unit range, like a thread's slice
    auto in4 = random_vector(4 * gs, seed++, -4.0f, 4.0f);
    auto c_prev = random_vector(n, seed++, -2.0f, 2.0f);
    auto dh = random_vector(n, seed++), dc = random_vector(n, seed++);
    // LSTM forward and backward.
    std::vector<float> g_a = in4, g_b = in4, c_a(n), c_b(n), h_a(n), h_b(n);
    isa().lstm_forward(g_a.data(), gs, c_a.data(), h_a.data(), c_prev.data(), n);
    ref.lstm_forward(g_b.data(), gs, c_b.data(), h_b.data(), c_prev.data(), n);
    CHECK_CLOSE(g_a.data(), g_b.data(), g_a.size(), 1e-7, 1e-6);
    CHECK_CLOSE(c_a.data(), c_b.data(), n, 1e-7, 1e-6);
    CHECK_CLOSE(h_a.data(), h_b.data(), n, 1e-7, 1e-6);
    std::vector<float> dg_a(4 * gs, 0.0f), dg_b(4 * gs, 0.0f), dcp_a = dc, dcp_b = dc;
    isa().lstm_backward(dg_a.data(), gs, dcp_a.data(), g_b.data(), c_b.data(), c_prev.data(), dh.data(), dcp_a.data(), n);
    ref.lstm_backward(dg_b.data(), gs, dcp_b.data(), g_b.data(), c_b.data(), c_prev.data(), dh.data(), dcp_b.data(), n);
    CHECK_CLOSE(dg_a.data(), dg_b.data(), dg_a.size(), 1e-7, 1e-6);
    CHECK_CLOSE(dcp_a.data(), dcp_b.data(), n, 1e-7, 1e-6);
    // GRU forward and backward.
    auto hh = random_vector(3 * gs, seed++, -2.0f, 2.0f), b_hh = random_vector(3 * gs, seed++);
    std::vector<float> r_a(in4.begin(), in4.begin() + 3 * gs), r_b = r_a, hn_a(n), hn_b(n), gh_a(n), gh_b(n);
    isa().gru_forward(r_a.data(), gs, hh.data(), b_hh.data(), hn_a.data(), gh_a.data(), c_prev.data(), n);
    ref.gru_forward(r_b.data(), gs, hh.data(), b_hh.data(), hn_b.data(), gh_b.data(), c_prev.data(), n);
    CHECK_CLOSE(r_a.data(), r_b.data(), r_a.size(), 1e-7, 1e-6);
    CHECK_CLOSE(hn_a.data(), hn_b.data(), n, 1e-7, 1e-6);
    CHECK_CLOSE(gh_a.data(), gh_b.data(), n, 1e-7, 1e-6);
    std::vector<float> dx_a(3 * gs, 0.0f), dx_b = dx_a, dhh_a = dx_a, dhh_b = dx_a, dhp_a(n), dhp_b(n);
    isa().gru_backward(dx_a.data(), dhh_a.data(), gs, dhp_a.data(), r_b.data(), hn_b.data(), c_prev.data(), dh.data(), n);
    ref.gru_backward(dx_b.data(), dhh_b.data(), gs, dhp_b.data(), r_b.data(), hn_b.data(), c_prev.data(), dh.data(), n);
    CHECK_CLOSE(dx_a.data(), dx_b.data(), dx_a.size(), 1e-7, 1e-6);
    CHECK_CLOSE(dhh_a.data(), dhh_b.data(), dhh_a.size(), 1e-7, 1e-6);
    CHECK_CLOSE(dhp_a.data(), dhp_b.data(), n, 1e-7, 1e-6);
    // RNN, both nonlinearities.
    for (bool relu : {false, true}) {
      std::vector<float> ha(n), hb(n), da(n), db(n);
      isa().rnn_forward(ha.data(), in4.data(), n, relu);
      ref.rnn_forward(hb.data(), in4.data(), n, relu);
      CHECK_CLOSE(ha.data(), hb.data(), n, 1e-7, 1e-6);
      isa().rnn_backward(da.data(), hb.data(), dh.data(), n, relu);
      ref.rnn_backward(db.data(), hb.data(), dh.data(), n, relu);
      CHECK_CLOSE(da.data(), db.data(), n, 1e-7, 1e-6);
    }
  }
}

TEST(lstm_gate_kernel_matches_formulas) {
  // One unit, values checked against the formulas in double.
  float gates[4] = {0.3f, -1.2f, 0.7f, 2.0f};
  const float c_prev = 0.5f;
  float c = 0, h = 0;
  isa().lstm_forward(gates, 1, &c, &h, &c_prev, 1);
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const double i = sig(0.3), f = sig(-1.2), g = std::tanh(0.7), o = sig(2.0);
  const double c_exact = f * 0.5 + i * g;
  CHECK(std::fabs(c - c_exact) < 1e-6);
  CHECK(std::fabs(h - o * std::tanh(c_exact)) < 1e-6);
  CHECK(std::fabs(gates[0] - i) < 1e-6 && std::fabs(gates[1] - f) < 1e-6);
  CHECK(std::fabs(gates[2] - g) < 1e-6 && std::fabs(gates[3] - o) < 1e-6);
}

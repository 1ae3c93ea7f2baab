// Activations and every cell's fused gate kernels of the ISA under test: accuracy against libm in double,
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

// The tensor op's tanh is accurate relative to its value, also near 0 (a grid of ±[1e-30, 20],
// geometric, and the dense linear grid above).
TEST(tanh_within_4e7_relative) {
  std::vector<float> x;
  for (double v = 1e-30; v < 20.0; v *= 1.0001) x.push_back(static_cast<float>(v)), x.push_back(-static_cast<float>(v));
  for (int i = 0; i <= 400000; ++i) x.push_back(-20.0f + 40.0f * static_cast<float>(i) / 400000);
  std::vector<float> y(x.size());
  isa().tanh(y.data(), x.data(), static_cast<int>(x.size()));
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double exact = std::tanh(static_cast<double>(x[i]));
    if (exact != 0.0) worst = std::fmax(worst, std::fabs((y[i] - exact) / exact));
  }
  std::printf("  max relative error: tanh %.3g\n", worst);
  CHECK(worst <= 4e-7);
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

namespace {

// One cell's forward and backward on the ISA under test and on scalar, from the same inputs.
struct CellRun {
  std::vector<float> gates, h, c, hn, dgates, dgates_h, dc, dh_prev;
};

CellRun run_cell(const Kernels& k, Cell cell, int n, int gs, const std::vector<float>& gates_in, const std::vector<float>& h_prev,
                 const std::vector<float>& c_prev, const std::vector<float>& hh, const std::vector<float>& b_hh,
                 const std::vector<float>& dh, const std::vector<float>& dc_next, const CellRun* forward_of) {
  CellRun r{gates_in, std::vector<float>(n), std::vector<float>(n), std::vector<float>(n),
            std::vector<float>(gates_in.size()), std::vector<float>(gates_in.size()), dc_next, std::vector<float>(n)};
  const CellTraits& traits = cell_traits(cell);
  CellStep step{};
  step.n = n;
  step.gs = gs;
  step.gates = r.gates.data();
  step.h_prev = h_prev.data();
  step.h = r.h.data();
  if (traits.cell_state) step.c_prev = c_prev.data(), step.c = r.c.data();
  if (traits.split_recurrent) step.hh = hh.data(), step.b_hh = b_hh.data(), step.hn = r.hn.data();
  k.cells[static_cast<int>(cell)].forward(step);
  // Backward from the reference's forward, so both see the same activations.
  const CellRun& f = forward_of ? *forward_of : r;
  CellGradStep grad{};
  grad.n = n;
  grad.gs = gs;
  grad.dgates = r.dgates.data();
  grad.dgates_h = r.dgates_h.data();
  grad.gates = f.gates.data();
  grad.h = f.h.data();
  grad.h_prev = h_prev.data();
  grad.dh = dh.data();
  grad.dh_prev = r.dh_prev.data();
  if (traits.cell_state) grad.c = f.c.data(), grad.c_prev = c_prev.data(), grad.dc = r.dc.data();
  if (traits.split_recurrent) grad.hn = f.hn.data();
  k.cells[static_cast<int>(cell)].backward(grad);
  return r;
}

}  // namespace

TEST(cell_kernels_match_scalar_on_awkward_lengths) {
  uint32_t seed = 1;
  for (const CellTraits& traits : kCells) {
    for (int n : kLengths) {
      const int gs = n + 5;  // gate stride wider than the unit range, like a thread's slice
      const size_t gate_floats = size_t(traits.gates) * gs;
      const auto gates = random_vector(gate_floats, seed++, -4.0f, 4.0f);
      const auto h_prev = random_vector(n, seed++, -2.0f, 2.0f), c_prev = random_vector(n, seed++, -2.0f, 2.0f);
      const auto hh = random_vector(gate_floats, seed++, -2.0f, 2.0f), b_hh = random_vector(gate_floats, seed++);
      const auto dh = random_vector(n, seed++), dc = random_vector(n, seed++);
      const CellRun want = run_cell(reference(), traits.cell, n, gs, gates, h_prev, c_prev, hh, b_hh, dh, dc, nullptr);
      const CellRun got = run_cell(isa(), traits.cell, n, gs, gates, h_prev, c_prev, hh, b_hh, dh, dc, &want);
      std::printf("  %s, %d units\n", traits.name, n);
      const struct {
        const char* name;
        std::vector<float> CellRun::*member;
      } outputs[] = {{"gates", &CellRun::gates}, {"h", &CellRun::h}, {"c", &CellRun::c}, {"hn", &CellRun::hn},
                     {"dgates", &CellRun::dgates}, {"dgates_h", &CellRun::dgates_h}, {"dc", &CellRun::dc},
                     {"dh_prev", &CellRun::dh_prev}};
      // Scalar rounds a·b + c twice where the SIMD ISAs fuse it: with the sum cancelling (GRU's
      // x_n + r ⊙ hn, |r ⊙ hn| < 4) the two differ by up to an ulp of 4, 2.4e-7, before tanh.
      for (const auto& out : outputs) {
        if (!all_close((got.*out.member).data(), (want.*out.member).data(), (want.*out.member).size(), 5e-7, 1e-6, out.name)) {
          fail(__FILE__, __LINE__, "values differ");
        }
      }
    }
  }
}

TEST(lstm_gate_kernel_matches_formulas) {
  // One unit, values checked against the formulas in double.
  float gates[4] = {0.3f, -1.2f, 0.7f, 2.0f};
  const float c_prev = 0.5f;
  float c = 0, h = 0;
  CellStep step{};
  step.n = 1;
  step.gs = 1;
  step.gates = gates;
  step.h = &h;
  step.c_prev = &c_prev;
  step.c = &c;
  isa().cells[static_cast<int>(Cell::Lstm)].forward(step);
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const double i = sig(0.3), f = sig(-1.2), g = std::tanh(0.7), o = sig(2.0);
  const double c_exact = f * 0.5 + i * g;
  CHECK(std::fabs(c - c_exact) < 1e-6);
  CHECK(std::fabs(h - o * std::tanh(c_exact)) < 1e-6);
  CHECK(std::fabs(gates[0] - i) < 1e-6 && std::fabs(gates[1] - f) < 1e-6);
  CHECK(std::fabs(gates[2] - g) < 1e-6 && std::fabs(gates[3] - o) < 1e-6);
}

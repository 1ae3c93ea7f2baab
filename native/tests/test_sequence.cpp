// Full sequence forward + backward for every cell and option, on the ISA under test:
//  - against a float64 reference forward and its central finite-difference gradients (tiny sizes);
//  - against the scalar ISA on awkward sizes;
//  - bitwise determinism run to run, and thread-count invariance;
//  - all of that with variational dropout masks (input and recurrent) too.
#include <cstring>
#include <functional>

#include "harness.h"
#include "reference.h"

using namespace rnnkit;
using namespace rnnkit_test;

namespace {

// Every cell of rnnkit::kCells, and whether it has a cell state / may project.
std::vector<Cell> every_cell() {
  std::vector<Cell> cells;
  for (const CellTraits& traits : kCells) cells.push_back(traits.cell);
  return cells;
}
bool has_cell_state(Cell cell) { return cell_traits(cell).cell_state; }
bool projects(Cell cell) { return cell_traits(cell).projection; }

struct Case {
  Cell cell;
  int T, B, I, H, P;
  bool bias, given_state, reverse;
  std::vector<int> lengths;  // empty = all T
  bool masked = false;       // variational dropout: random input and recurrent masks (p = 0.3)
};

struct Problem {
  SeqShape shape;
  std::vector<float> w_ih, w_hh, b_ih, b_hh, w_hr, x, h0, c0, dy, dh_n, dc_n;
  std::vector<int> lengths;
  std::vector<float> input_mask, recurrent_mask;  // [B, I], [B, S]; empty = none
};

// Inverted-dropout masks: each entry 0 with probability p, else 1/(1 − p).
std::vector<float> dropout_mask(size_t n, uint32_t seed, float p) {
  std::vector<float> mask = random_vector(n, seed, 0.0f, 1.0f);
  for (float& m : mask) m = m < p ? 0.0f : 1.0f / (1.0f - p);
  return mask;
}

// p.shape with its lengths and masks attached.
SeqShape bound_shape(const Problem& p) {
  SeqShape shape = p.shape;
  shape.lengths = p.lengths.empty() ? nullptr : p.lengths.data();
  shape.input_mask = p.input_mask.empty() ? nullptr : p.input_mask.data();
  shape.recurrent_mask = p.recurrent_mask.empty() ? nullptr : p.recurrent_mask.data();
  return shape;
}

struct Result {
  std::vector<float> y, h_n, c_n, dx, dh0, dc0, g_w_ih, g_w_hh, g_b_ih, g_b_hh, g_w_hr;
};

Problem make_problem(const Case& c, uint32_t seed) {
  Problem p;
  p.lengths = c.lengths;
  p.shape.cell = c.cell;
  p.shape.steps = c.T;
  p.shape.batch = c.B;
  p.shape.input = c.I;
  p.shape.hidden = c.H;
  p.shape.proj = c.P;
  p.shape.reverse = c.reverse;
  const int S = p.shape.state(), GH = p.shape.gates() * c.H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.H));
  p.w_ih = random_vector(size_t(GH) * c.I, seed + 1, -scale, scale);
  p.w_hh = random_vector(size_t(GH) * S, seed + 2, -scale, scale);
  if (c.bias) {
    p.b_ih = random_vector(GH, seed + 3, -scale, scale);
    p.b_hh = random_vector(GH, seed + 4, -scale, scale);
  }
  if (c.P > 0) p.w_hr = random_vector(size_t(c.P) * c.H, seed + 5, -scale, scale);
  p.x = random_vector(size_t(c.T) * c.B * c.I, seed + 6);
  p.h0 = c.given_state ? random_vector(size_t(c.B) * S, seed + 7) : std::vector<float>(size_t(c.B) * S, 0.0f);
  p.c0 = c.given_state ? random_vector(size_t(c.B) * c.H, seed + 8) : std::vector<float>(size_t(c.B) * c.H, 0.0f);
  p.dy = random_vector(size_t(c.T) * c.B * S, seed + 9);
  p.dh_n = random_vector(size_t(c.B) * S, seed + 10);
  p.dc_n = random_vector(size_t(c.B) * c.H, seed + 11);
  if (c.masked) {
    p.input_mask = dropout_mask(size_t(c.B) * c.I, seed + 12, 0.3f);
    p.recurrent_mask = dropout_mask(size_t(c.B) * S, seed + 13, 0.3f);
  }
  return p;
}

float* data_or_null(std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// Forward (training) then backward; consume_cache: backward may overwrite the cache.
Result run(Problem& p, bool consume_cache = false) {
  const SeqShape shape = bound_shape(p);
  const int T = shape.steps, B = shape.batch, H = shape.hidden, S = shape.state();
  Result r;
  r.y.assign(size_t(T) * B * S, NAN);
  r.h_n.assign(size_t(B) * S, NAN);
  r.c_n.assign(size_t(B) * H, NAN);
  std::vector<float> cache(cache_size(shape), NAN);
  const SeqWeights w{p.w_ih.data(), p.w_hh.data(), data_or_null(p.b_ih), data_or_null(p.b_hh), data_or_null(p.w_hr)};
  CHECK(sequence_forward(shape, w, r.y.data(), r.h_n.data(), r.c_n.data(), p.x.data(), p.h0.data(), p.c0.data(),
                         cache.data()));
  r.dx.assign(p.x.size(), NAN);
  r.dh0.assign(p.h0.size(), NAN);
  r.dc0.assign(p.c0.size(), NAN);
  r.g_w_ih.assign(p.w_ih.size(), 0.0f);
  r.g_w_hh.assign(p.w_hh.size(), 0.0f);
  r.g_b_ih.assign(p.b_ih.size(), 0.0f);
  r.g_b_hh.assign(p.b_hh.size(), 0.0f);
  r.g_w_hr.assign(p.w_hr.size(), 0.0f);
  const SeqGrads g{r.g_w_ih.data(), r.g_w_hh.data(), data_or_null(r.g_b_ih), data_or_null(r.g_b_hh),
                   data_or_null(r.g_w_hr)};
  CHECK(sequence_backward(shape, w, g, r.dx.data(), r.dh0.data(), r.dc0.data(), p.dy.data(), p.dh_n.data(),
                          p.dc_n.data(), p.x.data(), cache.data(), consume_cache));
  if (!has_cell_state(shape.cell)) r.c_n.clear(), r.dc0.clear();
  return r;
}

Doubles widen(const std::vector<float>& v) { return Doubles(v.begin(), v.end()); }

// Σ y·dy + Σ h_n·dh_n (+ Σ c_n·dc_n): the scalar whose gradient backward computes.
double reference_loss(const Problem& p, const RefParams& params, const Doubles& x, const Doubles& h0,
                      const Doubles& c0) {
  const SeqShape shape = bound_shape(p);
  const RefOutput out = reference_forward(shape, params, x, h0, c0);
  double loss = 0.0;
  for (size_t i = 0; i < out.y.size(); ++i) loss += out.y[i] * p.dy[i];
  for (size_t i = 0; i < out.h_n.size(); ++i) loss += out.h_n[i] * p.dh_n[i];
  if (has_cell_state(shape.cell))
    for (size_t i = 0; i < out.c_n.size(); ++i) loss += out.c_n[i] * p.dc_n[i];
  return loss;
}

// Central differences of reference_loss with respect to every element of `target`.
std::vector<float> finite_difference(const std::function<double()>& loss, Doubles& target) {
  const double eps = 1e-6;
  std::vector<float> grad(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    const double saved = target[i];
    target[i] = saved + eps;
    const double up = loss();
    target[i] = saved - eps;
    const double down = loss();
    target[i] = saved;
    grad[i] = static_cast<float>((up - down) / (2 * eps));
  }
  return grad;
}

void check_against_reference(const Case& c, uint32_t seed) {
  Problem p = make_problem(c, seed);
  const Result r = run(p);
  RefParams params{widen(p.w_ih), widen(p.w_hh), widen(p.b_ih), widen(p.b_hh), widen(p.w_hr)};
  Doubles x = widen(p.x), h0 = widen(p.h0), c0 = widen(p.c0);
  const SeqShape shape = bound_shape(p);
  const RefOutput out = reference_forward(shape, params, x, h0, c0);
  // fp32 forward vs float64: a few ulps per step.
  const double atol = 2e-6, rtol = 1e-5;
  const std::vector<float> y(out.y.begin(), out.y.end()), h_n(out.h_n.begin(), out.h_n.end());
  CHECK_CLOSE(r.y.data(), y.data(), y.size(), atol, rtol);
  CHECK_CLOSE(r.h_n.data(), h_n.data(), h_n.size(), atol, rtol);
  if (has_cell_state(c.cell)) {
    const std::vector<float> c_n(out.c_n.begin(), out.c_n.end());
    CHECK_CLOSE(r.c_n.data(), c_n.data(), c_n.size(), atol, rtol);
  }
  // Gradients vs central differences of the float64 forward (eps 1e-6: error ~1e-10).
  const double gatol = 1e-5, grtol = 1e-4;
  auto loss = [&] { return reference_loss(p, params, x, h0, c0); };
  auto check_grad = [&](const std::vector<float>& analytic, Doubles& target, const char* name) {
    if (target.empty()) return;
    const std::vector<float> numeric = finite_difference(loss, target);
    if (!all_close(analytic.data(), numeric.data(), numeric.size(), gatol, grtol, name)) fail(__FILE__, __LINE__, name);
  };
  check_grad(r.dx, x, "dx");
  check_grad(r.dh0, h0, "dh0");
  if (has_cell_state(c.cell)) check_grad(r.dc0, c0, "dc0");
  check_grad(r.g_w_ih, params.w_ih, "dW_ih");
  check_grad(r.g_w_hh, params.w_hh, "dW_hh");
  check_grad(r.g_b_ih, params.b_ih, "db_ih");
  check_grad(r.g_b_hh, params.b_hh, "db_hh");
  check_grad(r.g_w_hr, params.w_hr, "dW_hr");
}

void compare_results(const Result& a, const Result& b, double atol, double rtol) {
  CHECK_CLOSE(a.y.data(), b.y.data(), a.y.size(), atol, rtol);
  CHECK_CLOSE(a.h_n.data(), b.h_n.data(), a.h_n.size(), atol, rtol);
  CHECK_CLOSE(a.c_n.data(), b.c_n.data(), a.c_n.size(), atol, rtol);
  CHECK_CLOSE(a.dx.data(), b.dx.data(), a.dx.size(), atol, rtol);
  CHECK_CLOSE(a.dh0.data(), b.dh0.data(), a.dh0.size(), atol, rtol);
  CHECK_CLOSE(a.dc0.data(), b.dc0.data(), a.dc0.size(), atol, rtol);
  CHECK_CLOSE(a.g_w_ih.data(), b.g_w_ih.data(), a.g_w_ih.size(), atol, rtol);
  CHECK_CLOSE(a.g_w_hh.data(), b.g_w_hh.data(), a.g_w_hh.size(), atol, rtol);
  CHECK_CLOSE(a.g_b_ih.data(), b.g_b_ih.data(), a.g_b_ih.size(), atol, rtol);
  CHECK_CLOSE(a.g_b_hh.data(), b.g_b_hh.data(), a.g_b_hh.size(), atol, rtol);
  CHECK_CLOSE(a.g_w_hr.data(), b.g_w_hr.data(), a.g_w_hr.size(), atol, rtol);
}

bool bitwise_equal(const Result& a, const Result& b) {
  const std::vector<float> Result::*fields[] = {&Result::y, &Result::h_n, &Result::c_n, &Result::dx,
                                                &Result::dh0, &Result::dc0, &Result::g_w_ih, &Result::g_w_hh,
                                                &Result::g_b_ih, &Result::g_b_hh, &Result::g_w_hr};
  for (auto field : fields) {
    const auto& u = a.*field;
    const auto& v = b.*field;
    if (u.size() != v.size() || (!u.empty() && std::memcmp(u.data(), v.data(), sizeof(float) * u.size()) != 0)) return false;
  }
  return true;
}

}  // namespace

TEST(matches_float64_reference_and_finite_differences) {
  uint32_t seed = 100;
  for (Cell cell : every_cell()) {
    const int P = 0;
    check_against_reference({cell, 4, 3, 5, 6, P, true, false, false, {}}, seed++);
    check_against_reference({cell, 4, 3, 5, 6, P, false, true, false, {}}, seed++);
    check_against_reference({cell, 4, 3, 5, 6, P, true, true, true, {}}, seed++);
    check_against_reference({cell, 5, 4, 3, 7, P, true, true, false, {5, 2, 0, 1}}, seed++);
    check_against_reference({cell, 5, 4, 3, 7, P, true, true, true, {3, 5, 1, 0}}, seed++);
  }
  check_against_reference({Cell::Lstm, 4, 3, 5, 6, 3, true, true, false, {}}, seed++);
  check_against_reference({Cell::Lstm, 5, 4, 3, 7, 2, false, true, true, {5, 2, 0, 1}}, seed++);
}

TEST(matches_scalar_on_awkward_sizes) {
  const int sizes[] = {1, 3, 7, 8, 15, 16, 17, 33, 100};
  uint32_t seed = 500;
  for (bool masked : {false, true}) {
    for (Cell cell : every_cell()) {
      for (int H : sizes) {
        const bool odd = H % 2 == 1;
        const int P = (projects(cell) && H > 4 && odd) ? H / 2 : 0;
        const std::vector<int> lengths = odd ? std::vector<int>{6, 3, 1, 6, 0} : std::vector<int>{};
        Problem p = make_problem({cell, 6, 5, 13, H, P, true, odd, !odd, lengths, masked}, seed++);
        const Result ours = run(p);
        Result reference;
        {
          IsaScope scalar("scalar");
          reference = run(p);
        }
        // Only FMA contraction and vector-vs-scalar tails differ: a few ulps, grown over 6 steps.
        compare_results(ours, reference, 2e-6, 2e-5);
      }
    }
  }
}

TEST(bitwise_deterministic_and_thread_count_invariant) {
  for (bool masked : {false, true}) {
    for (Cell cell : every_cell()) {
      // Big enough per step (B·G·H·S multiply-adds) for the steps to be split across threads.
      std::vector<int> lengths(33);
      for (int b = 0; b < 33; ++b) lengths[b] = (b * 5) % 8;
      Case c{cell, 7, 33, 20, 181, projects(cell) ? 67 : 0, true, true, true, lengths, masked};
      Problem p = make_problem(c, 900);
      const Result first = run(p);
      const Result second = run(p);
      CHECK(bitwise_equal(first, second));
      // Gate gradients in place of the cached activations: the same numbers.
      CHECK(bitwise_equal(first, run(p, true)));
      const int threads = num_threads();
      set_num_threads(1);
      const Result single = run(p);
      set_num_threads(threads);
      // No reduction is split across threads, so even the thread count does not change a bit.
      CHECK(bitwise_equal(first, single));
    }
  }
}

namespace {

// Inference forward of p (nothing cached), with prepared weights when `prepared` is given.
Result run_inference(Problem& p, const PreparedLayer* prepared) {
  const SeqShape shape = bound_shape(p);
  Result r;
  r.y.assign(size_t(shape.steps) * shape.batch * shape.state(), NAN);
  r.h_n.assign(size_t(shape.batch) * shape.state(), NAN);
  r.c_n.assign(size_t(shape.batch) * shape.hidden, NAN);
  if (prepared) {
    sequence_forward(shape, *prepared, r.y.data(), r.h_n.data(), r.c_n.data(), p.x.data(), p.h0.data(), p.c0.data());
  } else {
    const SeqWeights w{p.w_ih.data(), p.w_hh.data(), data_or_null(p.b_ih), data_or_null(p.b_hh), data_or_null(p.w_hr)};
    sequence_forward(shape, w, r.y.data(), r.h_n.data(), r.c_n.data(), p.x.data(), p.h0.data(), p.c0.data(), nullptr);
  }
  return r;
}

std::unique_ptr<PreparedLayer> prepare(Problem& p) {
  const SeqWeights w{p.w_ih.data(), p.w_hh.data(), data_or_null(p.b_ih), data_or_null(p.b_hh), data_or_null(p.w_hr)};
  std::unique_ptr<PreparedLayer> layer = PreparedLayer::create(p.shape, w);
  CHECK(layer != nullptr);
  return layer;
}

}  // namespace

TEST(prepared_layer_forward_equals_sequence_forward_bitwise) {
  uint32_t seed = 1200;
  for (Cell cell : every_cell()) {
    const int P = projects(cell) ? 19 : 0;
    const Case cases[] = {
        {cell, 1, 1, 28, 40, 0, true, true, false, {}},
        {cell, 9, 5, 13, 33, P, true, true, true, {9, 3, 0, 9, 1}},
        {cell, 4, 33, 600, 17, 0, false, false, false, {}},  // I > kc: the input sums run in two blocks
        {cell, 3, 2, 7, 100, P, false, true, false, {}},
    };
    for (const Case& c : cases) {
      Problem p = make_problem(c, seed++);
      const std::unique_ptr<PreparedLayer> prepared = prepare(p);
      CHECK(prepared->fits(p.shape));
      const Result want = run_inference(p, nullptr);
      Result got = run_inference(p, prepared.get());
      CHECK(std::memcmp(got.y.data(), want.y.data(), sizeof(float) * want.y.size()) == 0);
      CHECK(std::memcmp(got.h_n.data(), want.h_n.data(), sizeof(float) * want.h_n.size()) == 0);
      if (has_cell_state(cell)) CHECK(std::memcmp(got.c_n.data(), want.c_n.data(), sizeof(float) * want.c_n.size()) == 0);
    }
  }
}

// A stream: one call per time step, the state updated in place (h_n, c_n are h0, c0), equals one
// call over the whole sequence, bit for bit, at batch 1 (the gemv path) and batch 6.
TEST(stepping_a_prepared_layer_equals_the_whole_sequence_bitwise) {
  uint32_t seed = 1300;
  for (Cell cell : every_cell()) {
    for (int B : {1, 6}) {
      Problem p = make_problem({cell, 12, B, 28, 64, projects(cell) ? 24 : 0, true, true, false, {}}, seed++);
      const std::unique_ptr<PreparedLayer> prepared = prepare(p);
      const Result want = run_inference(p, nullptr);
      const int S = p.shape.state(), I = p.shape.input;
      SeqShape one_step = p.shape;
      one_step.steps = 1;
      std::vector<float> h = p.h0, c = p.c0, y(size_t(B) * S);
      bool outputs_equal = true;
      for (int t = 0; t < p.shape.steps; ++t) {
        sequence_forward(one_step, *prepared, y.data(), h.data(), c.data(), p.x.data() + size_t(t) * B * I, h.data(),
                         c.data());
        outputs_equal &= std::memcmp(y.data(), want.y.data() + size_t(t) * B * S, sizeof(float) * y.size()) == 0;
      }
      CHECK(outputs_equal);
      CHECK(std::memcmp(h.data(), want.h_n.data(), sizeof(float) * h.size()) == 0);
      if (has_cell_state(cell)) CHECK(std::memcmp(c.data(), want.c_n.data(), sizeof(float) * c.size()) == 0);
    }
  }
}

// Packed for one ISA, a prepared layer keeps computing with that ISA's kernels after the active ISA
// changes (its panels have that ISA's width): the results of that ISA, bit for bit.
TEST(prepared_layer_keeps_the_isa_it_was_packed_for) {
  Problem p = make_problem({Cell::Lstm, 5, 3, 20, 40, 0, true, true, false, {}}, 1400);
  std::unique_ptr<PreparedLayer> prepared;
  Result scalar_result;
  {
    IsaScope scalar("scalar");
    prepared = prepare(p);
    scalar_result = run_inference(p, nullptr);
  }
  CHECK(std::strcmp(prepared->isa(), "scalar") == 0);
  const Result got = run_inference(p, prepared.get());
  CHECK(std::memcmp(got.y.data(), scalar_result.y.data(), sizeof(float) * got.y.size()) == 0);
}

// A one-sequence step of a layer this size (1.5 MB of weights) is split across threads by hidden
// units; no sum is split, so the result does not change by a bit with the thread count.
TEST(batch_one_prepared_step_is_thread_count_invariant) {
  Problem p = make_problem({Cell::Lstm, 1, 1, 128, 256, 0, true, true, false, {}}, 1500);
  const std::unique_ptr<PreparedLayer> prepared = prepare(p);
  const Result want = run_inference(p, nullptr);
  const int threads = num_threads();
  for (int n : {1, 2, 3}) {
    set_num_threads(n);
    const Result got = run_inference(p, prepared.get());
    CHECK(std::memcmp(got.h_n.data(), want.h_n.data(), sizeof(float) * want.h_n.size()) == 0);
    CHECK(std::memcmp(got.c_n.data(), want.c_n.data(), sizeof(float) * want.c_n.size()) == 0);
  }
  set_num_threads(threads);
}

// Variational dropout: float64 reference and finite differences with both masks, every cell, with
// lengths, reverse and projection (the masks zero some inputs and some of h entering W_hh).
TEST(masked_matches_float64_reference_and_finite_differences) {
  uint32_t seed = 1600;
  for (Cell cell : every_cell()) {
    check_against_reference({cell, 4, 3, 5, 6, 0, true, true, false, {}, true}, seed++);
    check_against_reference({cell, 5, 4, 3, 7, 0, true, true, true, {3, 5, 1, 0}, true}, seed++);
    check_against_reference({cell, 5, 4, 3, 7, 0, false, false, false, {5, 2, 0, 1}, true}, seed++);
  }
  check_against_reference({Cell::Lstm, 5, 4, 3, 7, 2, true, true, true, {5, 2, 0, 1}, true}, seed++);
}

// One mask only (input or recurrent): each on its own against the reference.
TEST(input_or_recurrent_mask_alone_matches_reference) {
  uint32_t seed = 1700;
  for (Cell cell : every_cell()) {
    for (int which = 0; which < 2; ++which) {
      Problem p = make_problem({cell, 4, 3, 5, 6, projects(cell) ? 4 : 0, true, true, which == 1, {4, 1, 3}, true}, seed++);
      (which == 0 ? p.recurrent_mask : p.input_mask).clear();
      const Result r = run(p);
      const RefParams params{widen(p.w_ih), widen(p.w_hh), widen(p.b_ih), widen(p.b_hh), widen(p.w_hr)};
      const RefOutput out = reference_forward(bound_shape(p), params, widen(p.x), widen(p.h0), widen(p.c0));
      const std::vector<float> y(out.y.begin(), out.y.end()), h_n(out.h_n.begin(), out.h_n.end());
      CHECK_CLOSE(r.y.data(), y.data(), y.size(), 2e-6, 1e-5);
      CHECK_CLOSE(r.h_n.data(), h_n.data(), h_n.size(), 2e-6, 1e-5);
    }
  }
}

// Masks of ones change nothing: the same results as without masks (to rounding of x·1 = x exactly;
// dh through the mask is summed separately, so backward agrees to an ulp or so, not bit for bit).
TEST(masks_of_ones_equal_no_masks) {
  uint32_t seed = 1800;
  for (Cell cell : every_cell()) {
    Problem plain = make_problem({cell, 6, 5, 13, 33, projects(cell) ? 17 : 0, true, true, true, {6, 3, 1, 6, 0}}, seed++);
    const Result want = run(plain);
    Problem ones = plain;
    ones.input_mask.assign(size_t(5) * 13, 1.0f);
    ones.recurrent_mask.assign(size_t(5) * plain.shape.state(), 1.0f);
    const Result got = run(ones);
    CHECK(std::memcmp(got.y.data(), want.y.data(), sizeof(float) * want.y.size()) == 0);
    CHECK(std::memcmp(got.h_n.data(), want.h_n.data(), sizeof(float) * want.h_n.size()) == 0);
    compare_results(got, want, 1e-6, 1e-6);
  }
}

// Inference with masks (no cache: the masked state ping-pongs in two slots) gives the training
// forward's outputs bit for bit.
TEST(masked_inference_equals_masked_training_forward) {
  uint32_t seed = 2100;
  for (Cell cell : every_cell()) {
    Problem p = make_problem({cell, 9, 5, 13, 33, projects(cell) ? 19 : 0, true, true, true, {9, 3, 0, 9, 1}, true}, seed++);
    const Result training = run(p);
    const Result inference = run_inference(p, nullptr);
    CHECK(std::memcmp(inference.y.data(), training.y.data(), sizeof(float) * training.y.size()) == 0);
    CHECK(std::memcmp(inference.h_n.data(), training.h_n.data(), sizeof(float) * training.h_n.size()) == 0);
  }
}

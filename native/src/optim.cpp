// The optimizer entry points: PyTorch's double-precision scalar arithmetic (done here, the way
// torch/optim/*.py does it in Python), then the active ISA's fp32 kernels over chunks of the arrays.
#include "rnnkit/optim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels.h"
#include "subnormals.h"
#include "threads.h"

namespace rnnkit {
namespace {

// Floats per kernel call: big enough to amortize a pool task, small enough to split a weight matrix.
constexpr size_t kChunk = size_t{1} << 15;

size_t chunk_count(size_t n) { return (n + kChunk - 1) / kChunk; }

// Runs body(offset, count) over [0, n) in chunks, on the pool when there are several.
template <class Body>
void for_chunks(size_t n, Body&& body) {
  const size_t chunks = chunk_count(n);
  if (chunks <= 1) {
    if (n > 0) body(size_t{0}, static_cast<int>(n));
    return;
  }
  parallel_for(static_cast<int>(chunks), [&](int chunk) {
    const size_t offset = static_cast<size_t>(chunk) * kChunk;
    body(offset, static_cast<int>(std::min(kChunk, n - offset)));
  });
}

// A Python float handed to a float32 tensor op (torch casts the double scalar to float).
float f32(double x) { return static_cast<float>(x); }

// Adds per-chunk partial sums in chunk order, so the result does not depend on the thread count.
template <class Partial>
double chunked_sum(size_t n, Partial&& partial) {
  std::vector<double> partials(std::max<size_t>(chunk_count(n), 1), 0.0);
  for_chunks(n, [&](size_t offset, int count) { partials[offset / kChunk] = partial(offset, count); });
  double total = 0.0;
  for (double p : partials) total += p;
  return total;
}

double max_abs(const float* x, size_t n) {
  const Kernels& k = kernels();
  std::vector<float> partials(std::max<size_t>(chunk_count(n), 1), 0.0f);
  for_chunks(n, [&](size_t offset, int count) { partials[offset / kChunk] = k.abs_max(x + offset, count); });
  float best = 0.0f;
  for (float p : partials) {
    if (std::isnan(p)) return p;
    best = std::max(best, p);
  }
  return best;
}

}  // namespace

void sgd_step(float* param, const float* grad, float* momentum_buffer, size_t n, const SgdOptions& o,
              bool first_step) {
  const FlushSubnormals flush;
  const SgdCoefs c{f32(-o.lr), f32(o.weight_decay), f32(o.momentum), f32(1.0 - o.dampening),
                   o.nesterov, o.maximize, first_step};
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) {
    k.sgd_step(param + i, grad + i, o.momentum != 0.0 ? momentum_buffer + i : nullptr, count, c);
  });
}

void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq, size_t n,
               const AdamOptions& o, double step) {
  const FlushSubnormals flush;
  // torch/optim/adam.py (capturable=False): Python floats until the tensor ops.
  const double bias_correction1 = 1.0 - std::pow(o.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, step);
  const double step_size = o.lr / bias_correction1;
  AdamCoefs c{};
  c.beta1 = f32(o.beta1);
  c.one_minus_beta1 = f32(1.0 - o.beta1);
  c.beta2 = f32(o.beta2);
  c.one_minus_beta2 = f32(1.0 - o.beta2);
  c.neg_step_size = f32(-step_size);
  c.bias_correction2_sqrt = f32(std::sqrt(bias_correction2));
  c.eps = f32(o.eps);
  c.weight_decay = o.decoupled_weight_decay ? 0.0f : f32(o.weight_decay);
  c.decay_factor = f32(1.0 - o.lr * o.weight_decay);
  c.decoupled = o.decoupled_weight_decay;
  c.amsgrad = o.amsgrad;
  c.maximize = o.maximize;
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) {
    k.adam_step(param + i, grad + i, exp_avg + i, exp_avg_sq + i, o.amsgrad ? max_exp_avg_sq + i : nullptr, count, c);
  });
}

void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* momentum_buffer,
                  size_t n, const RmspropOptions& o) {
  const FlushSubnormals flush;
  const RmspropCoefs c{f32(-o.lr), f32(o.alpha), f32(1.0 - o.alpha), f32(o.eps), f32(o.weight_decay),
                       f32(o.momentum), o.centered, o.maximize};
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) {
    k.rmsprop_step(param + i, grad + i, square_avg + i, o.centered ? grad_avg + i : nullptr,
                   o.momentum > 0.0 ? momentum_buffer + i : nullptr, count, c);
  });
}

void adagrad_step(float* param, const float* grad, float* sum, size_t n, const AdagradOptions& o, double step) {
  const FlushSubnormals flush;
  const double clr = o.lr / (1.0 + (step - 1.0) * o.lr_decay);
  const AdagradCoefs c{f32(-clr), f32(o.eps), f32(o.weight_decay), o.maximize};
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) { k.adagrad_step(param + i, grad + i, sum + i, count, c); });
}

double norm_power_sum(const float* x, size_t n, double p) {
  const FlushSubnormals flush;
  const Kernels& k = kernels();
  if (std::isinf(p)) return max_abs(x, n);
  if (p == 2.0) return chunked_sum(n, [&](size_t i, int count) { return k.sum_squares(x + i, count); });
  if (p == 1.0) return chunked_sum(n, [&](size_t i, int count) { return k.sum_abs(x + i, count); });
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    total += p == 0.0 ? (x[i] != 0.0f ? 1.0 : 0.0) : std::pow(std::fabs(static_cast<double>(x[i])), p);
  }
  return total;
}

void scale(float* x, size_t n, float factor) {
  const FlushSubnormals flush;
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) { k.scale(x + i, factor, count); });
}

void clamp(float* x, size_t n, float lo, float hi) {
  const FlushSubnormals flush;
  const Kernels& k = kernels();
  for_chunks(n, [&](size_t i, int count) { k.clamp(x + i, lo, hi, count); });
}

}  // namespace rnnkit

// rnnkit optimizers — torch.optim's (1.13, single-tensor path) per-parameter updates on plain float
// arrays, plus the reductions of clip_grad_norm_. Hyperparameters are doubles like PyTorch's Python
// numbers; the derived scalars (1 − β, lr / (1 − β₁^t), …) are computed in double as PyTorch's
// Python code does, then rounded to fp32 where PyTorch hands them to a float tensor op.
// Every array has n floats and is updated in place; large arrays are split over the thread pool
// (elementwise, so results do not depend on the thread count).
#pragma once

#include <cstddef>

namespace rnnkit {

struct SgdOptions {
  double lr = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
};
// momentum_buffer: needed when momentum ≠ 0 (else ignored, may be nullptr). first_step: the buffer
// has no value yet and becomes the (decayed) gradient, as PyTorch's clone on its first step.
void sgd_step(float* param, const float* grad, float* momentum_buffer, size_t n, const SgdOptions& options,
              bool first_step);

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;
  bool decoupled_weight_decay = false;  // AdamW: p *= 1 − lr·wd instead of g += wd·p
};
// step: this parameter's step count after the increment (1 on the first update).
// max_exp_avg_sq: needed when amsgrad (else ignored).
void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq, size_t n,
               const AdamOptions& options, double step);

struct RmspropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
};
// grad_avg: needed when centered; momentum_buffer: needed when momentum > 0 (else ignored).
void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* momentum_buffer,
                  size_t n, const RmspropOptions& options);

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double eps = 1e-10;
  bool maximize = false;
};
// step: this parameter's step count after the increment (1 on the first update).
void adagrad_step(float* param, const float* grad, float* sum, size_t n, const AdagradOptions& options, double step);

// Σ|x|^p in double for finite p ≥ 0 (p = 0 counts the non-zeros), max |x| for p = ∞ (NaN if any
// x is NaN). p = 1 and 2 are vectorized; other p use std::pow.
double norm_power_sum(const float* x, size_t n, double p);
// x *= factor; x = min(max(x, lo), hi) (NaN stays NaN).
void scale(float* x, size_t n, float factor);
void clamp(float* x, size_t n, float lo, float hi);

}  // namespace rnnkit

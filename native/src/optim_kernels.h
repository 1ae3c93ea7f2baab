// Per-step coefficients of the optimizer kernels (native/isa/optim-inl.h), already rounded to fp32
// exactly where torch.optim (1.13) turns a Python double into a float scalar: the caller
// (native/src/optim.cpp) does the double arithmetic (1 − β, lr / (1 − β^t), √(1 − β₂^t), …) the way
// PyTorch's Python code does, so the kernels only repeat PyTorch's fp32 tensor ops in its order.
#pragma once

namespace rnnkit {

// torch.optim.SGD: d = ±g (+ wd·p); buf = first ? d : momentum·buf + (1 − dampening)·d;
// d = nesterov ? d + momentum·buf : buf; p −= lr·d.
struct SgdCoefs {
  float neg_lr;                 // −lr
  float weight_decay;           // 0 = off
  float momentum;               // 0 = no buffer (momentum_buffer may be nullptr)
  float one_minus_dampening;    // 1 − dampening
  bool nesterov;
  bool maximize;                // use −g
  bool first_step;              // the buffer does not exist yet: it becomes d (PyTorch's clone)
};

// torch.optim.Adam / AdamW: m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²;
// p += −step_size · m / (√v̂ / √(1 − β₂^t) + eps), v̂ = amsgrad ? max(v̂, v) : v.
struct AdamCoefs {
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float neg_step_size;          // −lr / (1 − β₁^t)
  float bias_correction2_sqrt;  // √(1 − β₂^t)
  float eps;
  float weight_decay;           // Adam's L2 term g += wd·p (0 = off; AdamW passes 0)
  float decay_factor;           // AdamW's p *= 1 − lr·wd before the update (1 = Adam)
  bool decoupled;               // apply decay_factor (AdamW multiplies even when it is 1)
  bool amsgrad;                 // max_exp_avg_sq is used and updated
  bool maximize;
};

// torch.optim.RMSprop: v = αv + (1 − α)g²; centered: ḡ = αḡ + (1 − α)g, avg = √(v − ḡ²) + eps,
// else avg = √v + eps; momentum: buf = μ·buf + g / avg, p −= lr·buf; else p −= lr·g / avg.
struct RmspropCoefs {
  float neg_lr;
  float alpha, one_minus_alpha;
  float eps;
  float weight_decay;
  float momentum;               // 0 = no buffer
  bool centered;                // grad_avg is used and updated
  bool maximize;
};

// torch.optim.Adagrad: sum += g²; p −= clr · g / (√sum + eps), clr = lr / (1 + (t − 1)·lr_decay).
struct AdagradCoefs {
  float neg_clr;
  float eps;
  float weight_decay;
  bool maximize;
};

}  // namespace rnnkit

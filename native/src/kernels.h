// The per-ISA table of hot primitives. Each native/isa/<isa>.cpp defines one table in its own
// namespace; dispatch.cpp picks the best one the CPU supports (best first: avx512, avx2, neon, scalar).
// Pointwise kernels work on n consecutive hidden units of ONE batch row; gate block k of unit j is at
// [k * gs + j] (gs = gate stride, normally H), so a thread can own a range of units.
#pragma once

#include <cstddef>

#include "optim_kernels.h"

namespace rnnkit {

struct Kernels {
  const char* name;

  // ---- GEMM micro-kernel: C[m, n] (+)= A_panel · B_panel for one mr × nr tile ------------------
  int gemm_mr;
  int gemm_nr;
  //   a_panel [k][mr]  (packed, zero-padded rows)
  //   b_panel [k][nr]  (packed, zero-padded columns)
  //   c       [m, n]   row stride ldc; only the m ≤ mr rows and n ≤ nr columns are written
  void (*gemm_micro)(int k, const float* a_panel, const float* b_panel, float* c, int ldc, int m, int n,
                     bool accumulate);
  // The same for ONE row of C, with A unpacked — gemm_micro's result bit for bit, faster at batch 1:
  //   a [k];  b: panels [k][nr] for the n columns, panel_stride floats apart;  c [n]
  void (*gemv)(int k, const float* a, const float* b, size_t panel_stride, float* c, int n, bool accumulate);

  // ---- Activations over arrays (y may alias x): ≤ 1e-6 absolute error, NaN propagates ----------
  void (*sigmoid)(float* y, const float* x, int n);
  void (*tanh)(float* y, const float* x, int n);

  // ---- LSTM ------------------------------------------------------------------------------------
  // gates [4][gs] in: pre-activations (x·W_ihᵀ + h·W_hhᵀ + b_ih + b_hh); out: i, f, g, o activations
  // c     [n]     out: c = f ⊙ c_prev + i ⊙ g
  // h     [n]     out: o ⊙ tanh(c)   (before the projection, if any)
  void (*lstm_forward)(float* gates, int gs, float* c, float* h, const float* c_prev, int n);
  // dgates  [4][gs] out: gradient of the gate pre-activations (may be `gates` itself: read first)
  // dc_prev [n]     out: dc ⊙ f, where dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c))
  // gates   [4][gs] activations from forward; c, c_prev [n]; dh, dc_next [n] incoming gradients
  void (*lstm_backward)(float* dgates, int gs, float* dc_prev, const float* gates, const float* c,
                        const float* c_prev, const float* dh, const float* dc_next, int n);

  // ---- GRU -------------------------------------------------------------------------------------
  // gates [3][gs] in: x·W_ihᵀ + b_ih; out: r, z, n activations
  // hh    [3][gs] h_prev·W_hhᵀ (no bias);  b_hh [3][gs]
  // hn    [n]     out: W_hn h_prev + b_hn (cached for backward), may be nullptr
  // h     [n]     out: (1 − z) ⊙ n + z ⊙ h_prev, where n = tanh(x_n + r ⊙ hn)
  void (*gru_forward)(float* gates, int gs, const float* hh, const float* b_hh, float* hn, float* h,
                      const float* h_prev, int n);
  // dgates_x [3][gs] out: (dr, dz, dn) gradients of the pre-activations (input side; may be `gates`)
  // dgates_h [3][gs] out: (dr, dz, dn ⊙ r) gradients of h_prev·W_hhᵀ + b_hh
  // dh_prev  [n]     out: dh ⊙ z (the part not through W_hh)
  void (*gru_backward)(float* dgates_x, float* dgates_h, int gs, float* dh_prev, const float* gates,
                       const float* hn, const float* h_prev, const float* dh, int n);

  // ---- Vanilla RNN -----------------------------------------------------------------------------
  // h [n] = act(pre), act = relu ? max(0, ·) : tanh   (h may alias pre)
  void (*rnn_forward)(float* h, const float* pre, int n, bool relu);
  // dpre [n] = dh ⊙ act'(·), computed from the activation output h
  void (*rnn_backward)(float* dpre, const float* h, const float* dh, int n, bool relu);

  // ---- Optimizer updates (torch.optim 1.13 op order; coefficients in optim_kernels.h) ----------
  // All arrays [n], updated in place; optional state (momentum buffer, amsgrad max, centered
  // average) is nullptr when its option is off.
  void (*sgd_step)(float* param, const float* grad, float* momentum_buffer, int n, const SgdCoefs& c);
  void (*adam_step)(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
                    int n, const AdamCoefs& c);
  void (*rmsprop_step)(float* param, const float* grad, float* square_avg, float* grad_avg,
                       float* momentum_buffer, int n, const RmspropCoefs& c);
  void (*adagrad_step)(float* param, const float* grad, float* sum, int n, const AdagradCoefs& c);

  // ---- Gradient clipping -----------------------------------------------------------------------
  double (*sum_squares)(const float* x, int n);  // Σ x² (fp32 blocks summed in double)
  double (*sum_abs)(const float* x, int n);      // Σ |x|
  float (*abs_max)(const float* x, int n);       // max |x|, NaN if any x is NaN, 0 if n = 0
  void (*scale)(float* x, float factor, int n);  // x *= factor
  void (*clamp)(float* x, float lo, float hi, int n);  // x = min(max(x, lo), hi), NaN stays NaN
};

// Each native/isa/<isa>.cpp includes gemm-inl.h, pointwise-inl.h, optim-inl.h and table-inl.h
// inside its namespace, then defines `extern const Kernels table = make_table("<isa>");` (filled by
// field name).

// The active table (chosen once; see rnnkit::set_isa).
const Kernels& kernels();

// One table per ISA compiled into this binary. nullptr-free: unavailable ISAs are not declared.
namespace scalar { extern const Kernels table; }
#if RNNKIT_HAVE_AVX2
namespace avx2 { extern const Kernels table; }
#endif
#if RNNKIT_HAVE_AVX512
namespace avx512 { extern const Kernels table; }
#endif
#if RNNKIT_HAVE_NEON
namespace neon { extern const Kernels table; }
#endif

// Look up a compiled-in table by name (whether or not this CPU can run it); nullptr if unknown.
const Kernels* kernels_by_name(const char* name);

}  // namespace rnnkit

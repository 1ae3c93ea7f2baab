// The per-ISA table of hot primitives. Each native/isa/<isa>.cpp defines one table in its own
// namespace; dispatch.cpp picks the best one the CPU supports (best first: avx512, avx2, neon, scalar).
// Pointwise kernels work on n consecutive hidden units of ONE batch row; gate block k of unit j is at
// [k * gs + j] (gs = gate stride, normally H), so a thread can own a range of units.
#pragma once

#include <cstddef>

#include "optim_kernels.h"
#include "rnnkit/cells.h"

namespace rnnkit {

// One call of a cell's fused forward kernel: n consecutive hidden units of ONE batch row; gate
// block k of unit j is at [k * gs + j]. A cell reads only what its traits (rnnkit/cells.h) provide.
struct CellStep {
  int n;
  int gs;
  float* gates;         // [G][gs] in: pre-activations (x·W_ihᵀ + b_ih, + h·W_hhᵀ + b_hh unless split_recurrent);
                        //         out: what backward reads (LSTM i, f, g, o; GRU r, z, n; RNN unchanged)
  const float* h_prev;  // [n]; nullptr with a projection (h_prev is then P wide, not per unit)
  float* h;             // [n] out (before the projection, if any)
  const float* c_prev;  // [n] cell_state
  float* c;             // [n] out, cell_state
  const float* hh;      // [G][gs] split_recurrent: h_prev·W_hhᵀ (no bias)
  const float* b_hh;    // [G][gs] split_recurrent
  float* hn;            // [n] out, split_recurrent: W_hn·h_prev + b_hn for backward; nullptr = not kept
};

// One call of a cell's fused backward kernel, same layout.
struct CellGradStep {
  int n;
  int gs;
  float* dgates;        // [G][gs] out: gradient of the gate pre-activations (input side); may be `gates` (read first)
  float* dgates_h;      // [G][gs] out, split_recurrent: gradient of h_prev·W_hhᵀ + b_hh
  const float* gates;   // [G][gs] as forward left them
  const float* h;       // [n] the step's h (before the projection)
  const float* h_prev;  // [n]; nullptr with a projection
  const float* c;       // [n] cell_state: the step's c
  const float* c_prev;  // [n] cell_state
  const float* hn;      // [n] split_recurrent: forward's hn
  const float* dh;      // [n] gradient of h
  float* dc;            // [n] cell_state: in, the gradient of c from the next step; out, that of c_prev
  float* dh_prev;       // [n] out: the gradient reaching h_prev other than through W_hh (GRU dh ⊙ z);
                        //     cells without such a path leave it as it is; nullptr with a projection
};

struct CellKernels {
  void (*forward)(const CellStep& step);
  void (*backward)(const CellGradStep& step);
};

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
  void (*tanh)(float* y, const float* x, int n);  // a few ulp relative (the cells inline 2σ(2x) − 1 instead)

  // ---- Cells: each cell's fused gate kernels, indexed by Cell (rnnkit/cells.h) ------------------
  CellKernels cells[kCellCount];

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

// Sequence backward (BPTT) for RNN / LSTM / GRU, reading the cache of a training-mode forward.
//   per step, in reverse processing order:
//     dh_t = carried dh + dy_t; (LSTM proj: dh_pre = dh_t · W_hr)
//     region 1, split by hidden units: fused gate-gradient kernel → dgates_t, carried dc
//     region 2, split by state columns: carried dh (+)= dgates_t · W_hh
//   after the loop, one GEMM per gradient over all T·B rows: dx, dW_ih, dW_hh, dW_hr; biases as
//   column sums. Items without data at a step pass their state gradients through unchanged.
#include <algorithm>
#include <cstring>

#include "gemm_packed.h"
#include "kernels.h"
#include "sequence_common.h"
#include "threads.h"

namespace rnnkit {
namespace {

struct BackwardPass {
  const SeqShape& shape;
  const SeqWeights& w;
  const Kernels& k;
  const int T, B, I, H, S, G, GH;
  const bool proj, gru;

  // From the forward cache (see CacheLayout).
  const float* gates;
  const float* h_states;
  const float* c_states;
  const float* hn_cache;
  const float* h_pre;
  // Workspace.
  float* dgates;    // [T, B, G·H] gradient of the gate pre-activations (input side)
  float* dgates_h;  // [T, B, G·H] GRU: gradient of h·W_hhᵀ + b_hh; else = dgates
  float* dh_state;  // [B, S] gradient flowing into the previous state
  float* dh_t;      // [B, S] total gradient of this step's h
  float* dc_state;  // [B, H] LSTM
  float* dh_pre;    // [B, H] LSTM proj: gradient of o ⊙ tanh(c)
  float* dproj;     // [T, B, P] LSTM proj: dh_t per step, for dW_hr
  PackedMatrix w_hh_packed;  // W_hh [G·H, S]
  PackedMatrix w_hr_packed;  // W_hr [P, H]

  BackwardPass(const SeqShape& s, const SeqWeights& weights, const float* cache)
      : shape(s), w(weights), k(kernels()), T(s.steps), B(s.batch), I(s.input), H(s.hidden),
        S(s.state()), G(s.gates()), GH(s.gates() * s.hidden), proj(s.proj > 0), gru(s.cell == Cell::Gru) {
    const CacheLayout L = cache_layout(shape);
    gates = cache + L.gates;
    h_states = cache + L.h_all;
    c_states = cache + L.c_all;
    hn_cache = cache + L.hn;
    h_pre = cache + L.h_pre;
    const size_t tb = size_t(T) * B;
    float* mem = scratch(tb * GH * (gru ? 2 : 1) + 2 * size_t(B) * S + 2 * size_t(B) * H + tb * S);
    dgates = mem;
    dgates_h = gru ? dgates + tb * GH : dgates;
    dh_state = mem + tb * GH * (gru ? 2 : 1);
    dh_t = dh_state + size_t(B) * S;
    dc_state = dh_t + size_t(B) * S;
    dh_pre = dc_state + size_t(B) * H;
    dproj = dh_pre + size_t(B) * H;
    w_hh_packed.pack(Trans::No, GH, S, w.w_hh, S);
    if (proj) w_hr_packed.pack(Trans::No, S, H, w.w_hr, H);
  }

  const float* c_slot(int slot) const { return c_states + size_t(slot) * B * H; }
  const float* h_slot(int slot) const { return h_states + size_t(slot) * B * S; }

  void set_final_gradients(const float* dh_n, const float* dc_n) {
    if (dh_n) std::memcpy(dh_state, dh_n, sizeof(float) * B * S);
    else std::fill_n(dh_state, size_t(B) * S, 0.0f);
    if (shape.cell != Cell::Lstm) return;
    if (dc_n) std::memcpy(dc_state, dc_n, sizeof(float) * B * H);
    else std::fill_n(dc_state, size_t(B) * H, 0.0f);
  }

  // dh_t = carried dh + dy_t for items with data (their carried dh restarts from zero); others keep it.
  void gather_step_gradient(int t, const float* dy) {
    for (int b = 0; b < B; ++b) {
      float* dh_row = dh_t + size_t(b) * S;
      float* carried = dh_state + size_t(b) * S;
      const bool active = is_active(shape, t, b);
      if (active) {
        const float* dy_row = dy ? dy + (size_t(t) * B + b) * S : nullptr;
        for (int j = 0; j < S; ++j) dh_row[j] = carried[j] + (dy_row ? dy_row[j] : 0.0f);
        std::fill_n(carried, S, 0.0f);
      } else {
        std::fill_n(dh_row, S, 0.0f);
      }
      if (proj) std::memcpy(dproj + (size_t(t) * B + b) * S, dh_row, sizeof(float) * S);
    }
  }

  void step_units(int t, int j0, int j1) {
    const int n = j1 - j0;
    const float* dh_src = dh_t;
    int ld_src = S;
    if (proj) {
      sgemm_packed(B, j0, j1, dh_t, S, w_hr_packed, dh_pre, H, false);
      dh_src = dh_pre;
      ld_src = H;
    }
    const size_t step = size_t(t) * B;
    for (int b = 0; b < B; ++b) {
      const size_t gb = (step + b) * GH + j0;
      float* dg = dgates + gb;
      if (!is_active(shape, t, b)) {
        for (int g = 0; g < G; ++g) {
          std::fill_n(dg + g * H, n, 0.0f);
          if (gru) std::fill_n(dgates_h + gb + g * H, n, 0.0f);
        }
        continue;
      }
      const float* dh_row = dh_src + size_t(b) * ld_src + j0;
      switch (shape.cell) {
        case Cell::Lstm: {
          float* dc = dc_state + size_t(b) * H + j0;
          k.lstm_backward(dg, H, dc, gates + gb, c_slot(slot_after(shape, t)) + size_t(b) * H + j0,
                          c_slot(slot_before(shape, t)) + size_t(b) * H + j0, dh_row, dc, n);
          break;
        }
        case Cell::Gru:
          k.gru_backward(dg, dgates_h + gb, H, dh_state + size_t(b) * S + j0, gates + gb,
                         hn_cache + (step + b) * H + j0, h_slot(slot_before(shape, t)) + size_t(b) * S + j0,
                         dh_row, n);
          break;
        case Cell::RnnTanh:
        case Cell::RnnRelu:
          k.rnn_backward(dg, h_slot(slot_after(shape, t)) + size_t(b) * S + j0, dh_row, n,
                         shape.cell == Cell::RnnRelu);
          break;
      }
    }
  }

  void run_steps(const float* dy) {
    const ColumnSplit units = split_columns(H, k.gemm_nr, step_work(shape));
    const ColumnSplit states = split_columns(S, k.gemm_nr, step_work(shape));
    for (int s = T - 1; s >= 0; --s) {
      const int t = time_at(shape, s);
      gather_step_gradient(t, dy);
      parallel_for(units.parts, [&](int part) { step_units(t, units.begin(part), units.end(part)); });
      const float* dg_t = dgates_h + size_t(t) * B * GH;
      parallel_for(states.parts, [&](int part) {
        sgemm_packed(B, states.begin(part), states.end(part), dg_t, GH, w_hh_packed, dh_state, S, true);
      });
    }
  }

  void weight_gradients(const SeqGrads& grads, float* dx, const float* x) {
    const int rows = T * B;
    if (dx) sgemm(Trans::No, Trans::No, rows, I, GH, dgates, GH, w.w_ih, I, dx, I, false);
    sgemm(Trans::Yes, Trans::No, GH, I, rows, dgates, GH, x, I, grads.w_ih, I, true);
    const float* h_prev_all = h_slot(shape.reverse ? 1 : 0);
    sgemm(Trans::Yes, Trans::No, GH, S, rows, dgates_h, GH, h_prev_all, S, grads.w_hh, S, true);
    if (grads.b_ih) add_column_sums(grads.b_ih, dgates, rows, GH);
    if (grads.b_hh) add_column_sums(grads.b_hh, dgates_h, rows, GH);
    if (proj && grads.w_hr) sgemm(Trans::Yes, Trans::No, S, H, rows, dproj, S, h_pre, H, grads.w_hr, H, true);
  }

  void write_initial_gradients(float* dh0, float* dc0) const {
    if (dh0) std::memcpy(dh0, dh_state, sizeof(float) * B * S);
    if (dc0 && shape.cell == Cell::Lstm) std::memcpy(dc0, dc_state, sizeof(float) * B * H);
  }
};

}  // namespace

void sequence_backward(const SeqShape& shape, const SeqWeights& w, const SeqGrads& grads, float* dx,
                       float* dh0, float* dc0, const float* dy, const float* dh_n, const float* dc_n,
                       const float* x, const float* cache) {
  BackwardPass pass(shape, w, cache);
  pass.set_final_gradients(dh_n, dc_n);
  pass.run_steps(dy);
  pass.weight_gradients(grads, dx, x);
  pass.write_initial_gradients(dh0, dc0);
}

}  // namespace rnnkit

// Sequence forward for RNN / LSTM / GRU (cuDNN-style):
//   1. one GEMM for every step's input projection: gates[T·B, G·H] = x[T·B, I] · W_ihᵀ + bias
//   2. per step, each thread owns a range of hidden units: recurrent GEMM h_prev · W_hhᵀ for its
//      columns of every gate block (accumulated onto the projection; GRU keeps it apart because of
//      r ⊙ (W_hn h + b_hn)), then the fused gate kernel and state update for those units
//   3. LSTM projection: a second region per step, h = h_pre · W_hrᵀ split by output columns.
#include <algorithm>
#include <cstring>

#include "gemm_packed.h"
#include "kernels.h"
#include "sequence_common.h"
#include "threads.h"

namespace rnnkit {
namespace {

struct ForwardPass {
  const SeqShape& shape;
  const SeqWeights& w;
  const Kernels& k;
  const int T, B, I, H, S, G, GH;
  const bool proj, training;

  float* y;             // [T, B, S] or nullptr
  float* gates;         // [T, B, G·H]
  float* h_states;      // training: [T+1, B, S]; inference: 2 ping-pong slots [2, B, S]
  float* c_states;      // same for the LSTM cell state, width H
  float* hn_cache;      // [T, B, H] GRU training only, else nullptr
  float* h_pre;         // training: [T, B, H]; inference: [B, H] (LSTM with projection)
  float* hh;            // [B, G·H] GRU: h_prev · W_hhᵀ of the current step
  const bool has_bias;
  float* bias_x;        // [G·H] added to the input projection: b_ih (+ b_hh except GRU)
  float* bias_hh;       // [G·H] GRU's b_hh (zeros when bias=False)
  PackedMatrix w_hh_t[4];  // per gate block: W_hh[g]ᵀ [S, H]
  PackedMatrix w_hr_t;     // W_hrᵀ [H, P]

  ForwardPass(const SeqShape& s, const SeqWeights& weights, float* out, float* cache)
      : shape(s), w(weights), k(kernels()), T(s.steps), B(s.batch), I(s.input), H(s.hidden),
        S(s.state()), G(s.gates()), GH(s.gates() * s.hidden), proj(s.proj > 0),
        training(cache != nullptr), y(out), has_bias(weights.b_ih != nullptr) {
    allocate(cache);
  }

  size_t slot_index(int slot) const { return training ? slot : (slot & 1); }
  float* h_slot(int slot) const { return h_states + slot_index(slot) * B * S; }
  float* c_slot(int slot) const { return c_states + slot_index(slot) * B * H; }
  float* gates_at(int t) const { return gates + static_cast<size_t>(t) * B * GH; }
  float* h_pre_at(int t) const { return h_pre + (training ? static_cast<size_t>(t) * B * H : 0); }

  void allocate(float* cache) {
    const size_t hh_size = (shape.cell == Cell::Gru ? size_t(B) * GH : 0) + 2 * size_t(GH);
    if (training) {
      const CacheLayout L = cache_layout(shape);
      gates = cache + L.gates;
      h_states = cache + L.h_all;
      c_states = cache + L.c_all;
      hn_cache = shape.cell == Cell::Gru ? cache + L.hn : nullptr;
      h_pre = cache + L.h_pre;
      hh = scratch(hh_size);
    } else {
      const size_t gates_size = size_t(T) * B * GH;
      float* mem = scratch(gates_size + 2 * size_t(B) * (S + H) + size_t(B) * H + hh_size);
      gates = mem;
      h_states = gates + gates_size;
      c_states = h_states + 2 * size_t(B) * S;
      h_pre = c_states + 2 * size_t(B) * H;
      hh = h_pre + size_t(B) * H;
      hn_cache = nullptr;
    }
    bias_x = hh + (shape.cell == Cell::Gru ? size_t(B) * GH : 0);
    bias_hh = bias_x + GH;
    std::fill_n(bias_hh, GH, 0.0f);
  }

  // gates = x · W_ihᵀ (biases are added per step, while the step's slice is in cache). Bias
  // vectors: bias_x = b_ih (+ b_hh, folded in except for GRU, whose kernel needs b_hn apart).
  void project_inputs(const float* x) {
    sgemm(Trans::No, Trans::Yes, T * B, GH, I, x, I, w.w_ih, I, gates, GH, false);
    if (!has_bias) return;
    const bool gru = shape.cell == Cell::Gru;
    for (int j = 0; j < GH; ++j) {
      bias_x[j] = gru ? w.b_ih[j] : w.b_ih[j] + w.b_hh[j];
      bias_hh[j] = gru ? w.b_hh[j] : 0.0f;
    }
  }

  void pack_weights() {
    for (int g = 0; g < G; ++g) w_hh_t[g].pack(Trans::Yes, S, H, w.w_hh + static_cast<size_t>(g) * H * S, S);
    if (proj) w_hr_t.pack(Trans::Yes, H, S, w.w_hr, H);
  }

  void set_initial_state(const float* h0, const float* c0) {
    const int slot = slot_before(shape, time_at(shape, 0));
    if (h0) std::memcpy(h_slot(slot), h0, sizeof(float) * B * S);
    else std::fill_n(h_slot(slot), size_t(B) * S, 0.0f);
    if (shape.cell != Cell::Lstm) return;
    if (c0) std::memcpy(c_slot(slot), c0, sizeof(float) * B * H);
    else std::fill_n(c_slot(slot), size_t(B) * H, 0.0f);
  }

  // Units [j0, j1) of step t: recurrent GEMM for those columns of every gate, then the gate kernel.
  void step_units(int t, int j0, int j1) {
    const int n = j1 - j0;
    const float* h_prev = h_slot(slot_before(shape, t));
    float* h_new = h_slot(slot_after(shape, t));
    float* g_t = gates_at(t);
    const bool gru = shape.cell == Cell::Gru;
    if (has_bias) add_bias_to_units(g_t, j0, j1);
    float* rec = gru ? hh : g_t;
    for (int g = 0; g < G; ++g) sgemm_packed(B, j0, j1, h_prev, S, w_hh_t[g], rec + g * H, GH, !gru);
    for (int b = 0; b < B; ++b) {
      const size_t gb = size_t(b) * GH + j0;
      float* h_out = (proj ? h_pre_at(t) + size_t(b) * H : h_new + size_t(b) * S) + j0;
      if (!is_active(shape, t, b)) {
        carry_state(t, b, j0, n);
        continue;
      }
      switch (shape.cell) {
        case Cell::Lstm:
          k.lstm_forward(g_t + gb, H, c_slot(slot_after(shape, t)) + size_t(b) * H + j0, h_out,
                         c_slot(slot_before(shape, t)) + size_t(b) * H + j0, n);
          break;
        case Cell::Gru:
          k.gru_forward(g_t + gb, H, hh + gb, bias_hh + j0,
                        hn_cache ? hn_cache + (size_t(t) * B + b) * H + j0 : nullptr, h_out,
                        h_prev + size_t(b) * S + j0, n);
          break;
        case Cell::RnnTanh:
        case Cell::RnnRelu:
          k.rnn_forward(h_out, g_t + gb, n, shape.cell == Cell::RnnRelu);
          break;
      }
      if (!proj && y) std::memcpy(y + (size_t(t) * B + b) * S + j0, h_out, sizeof(float) * n);
    }
  }

  // g_t[b, g·H + j] += bias_x[g·H + j] for the units [j0, j1) of every gate and row.
  void add_bias_to_units(float* g_t, int j0, int j1) const {
    for (int b = 0; b < B; ++b) {
      for (int g = 0; g < G; ++g) {
        float* row = g_t + size_t(b) * GH + g * H;
        const float* bias = bias_x + g * H;
        for (int j = j0; j < j1; ++j) row[j] += bias[j];
      }
    }
  }

  // Item b has no data at time t: its state passes through unchanged and its output is zero.
  void carry_state(int t, int b, int j0, int n) {
    if (shape.cell == Cell::Lstm) {
      std::memcpy(c_slot(slot_after(shape, t)) + size_t(b) * H + j0,
                  c_slot(slot_before(shape, t)) + size_t(b) * H + j0, sizeof(float) * n);
    }
    if (proj) {  // the projection region carries h; keep the cached h_pre finite (backward reads it)
      std::fill_n(h_pre_at(t) + size_t(b) * H + j0, n, 0.0f);
      return;
    }
    std::memcpy(h_slot(slot_after(shape, t)) + size_t(b) * S + j0,
                h_slot(slot_before(shape, t)) + size_t(b) * S + j0, sizeof(float) * n);
    if (y) std::fill_n(y + (size_t(t) * B + b) * S + j0, n, 0.0f);
  }

  // Output columns [p0, p1) of step t: h = h_pre · W_hrᵀ.
  void project_state(int t, int p0, int p1) {
    const float* h_prev = h_slot(slot_before(shape, t));
    float* h_new = h_slot(slot_after(shape, t));
    sgemm_packed(B, p0, p1, h_pre_at(t), H, w_hr_t, h_new, S, false);
    for (int b = 0; b < B; ++b) {
      float* h_row = h_new + size_t(b) * S + p0;
      const bool active = is_active(shape, t, b);
      if (!active) std::memcpy(h_row, h_prev + size_t(b) * S + p0, sizeof(float) * (p1 - p0));
      if (!y) continue;
      float* y_row = y + (size_t(t) * B + b) * S + p0;
      if (active) std::memcpy(y_row, h_row, sizeof(float) * (p1 - p0));
      else std::fill_n(y_row, p1 - p0, 0.0f);
    }
  }

  void run_steps() {
    const ColumnSplit units = split_columns(H, k.gemm_nr, step_work(shape));
    const ColumnSplit outputs = split_columns(S, k.gemm_nr, step_work(shape));
    for (int s = 0; s < T; ++s) {
      const int t = time_at(shape, s);
      parallel_for(units.parts, [&](int part) { step_units(t, units.begin(part), units.end(part)); });
      if (proj) {
        parallel_for(outputs.parts, [&](int part) { project_state(t, outputs.begin(part), outputs.end(part)); });
      }
    }
  }

  void write_final_state(float* h_n, float* c_n) const {
    const int slot = T > 0 ? slot_after(shape, time_at(shape, T - 1)) : 0;
    if (h_n) std::memcpy(h_n, h_slot(slot), sizeof(float) * B * S);
    if (c_n && shape.cell == Cell::Lstm) std::memcpy(c_n, c_slot(slot), sizeof(float) * B * H);
  }
};

}  // namespace

void sequence_forward(const SeqShape& shape, const SeqWeights& w, float* y, float* h_n, float* c_n,
                      const float* x, const float* h0, const float* c0, float* cache) {
  ForwardPass pass(shape, w, y, cache);
  pass.project_inputs(x);
  pass.pack_weights();
  pass.set_initial_state(h0, c0);
  pass.run_steps();
  pass.write_final_state(h_n, c_n);
}

}  // namespace rnnkit

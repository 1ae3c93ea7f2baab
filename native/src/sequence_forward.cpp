// Sequence forward for RNN / LSTM / GRU (cuDNN-style):
//   1. one GEMM for every step's input projection: gates[T·B, G·H] = x[T·B, I] · W_ihᵀ + bias
//      (a PreparedLayer — weights packed once, for streaming — projects each step's inputs in 2,
//      for the units each thread owns, from its packed W_ihᵀ)
//   2. per step, each thread owns a range of hidden units: recurrent GEMM h_prev · W_hhᵀ for its
//      columns of every gate block (accumulated onto the projection; a split_recurrent cell, GRU,
//      keeps it apart because of r ⊙ (W_hn h + b_hn)), then the cell's fused gate kernel and state
//      update for those units
//   3. LSTM projection: a second region per step, h = h_pre · W_hrᵀ split by output columns.
// Variational dropout: the input GEMM reads x ⊙ input_mask (one [B, I] mask for every step); with a
// recurrent mask, whoever writes a slice of h also writes h ⊙ recurrent_mask for it (the next
// step's recurrent GEMM reads that, the state itself stays unmasked).
#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "gemm_packed.h"
#include "kernels.h"
#include "layer_pack.h"
#include "sequence_common.h"
#include "subnormals.h"
#include "threads.h"

namespace rnnkit {
namespace {

struct ForwardPass {
  const SeqShape& shape;
  const CellTraits& cell;
  const LayerPack& pack;
  const Kernels& k;
  const int T, B, I, H, S, G, GH;
  const bool proj, training;
  const int threads;
  ColumnSplit units;    // per step: hidden units per thread
  ColumnSplit outputs;  // per step: projected state columns per thread (LSTM with projection)

  float* y = nullptr;         // [T, B, S] or nullptr
  float* gates = nullptr;     // [T, B, G·H]
  float* h_states = nullptr;  // training: [T+1, B, S]; inference: 2 ping-pong slots [2, B, S]
  float* c_states = nullptr;  // same for the cell state (LSTM), width H
  float* hn_cache = nullptr;  // [T, B, H] split_recurrent (GRU) training only, else nullptr
  float* h_pre = nullptr;     // training: [T, B, H]; inference: [B, H] (LSTM with projection)
  float* hh = nullptr;        // [B, G·H] split_recurrent (GRU): h_prev · W_hhᵀ of the current step
  float* hm_states = nullptr; // recurrent mask: h ⊙ mask, slots as h_states; else nullptr
  float* x_masked = nullptr;  // [T, B, I] input mask: x ⊙ mask; else nullptr
  float* gemm_workspace = nullptr;  // the input projection's sgemm (unpacked W_ih)
  // The rows every thread multiplies, packed once by the threads that produce them (for B > 1):
  float* packed_h[2] = {};            // the recurrent input of this step and the next, alternately [B, S]
  float* packed_h_pre = nullptr;      // this step's h_pre, for the projection [B, H]
  float* packed_x = nullptr;          // per task: x_t for the packed W_ihᵀ of a prepared layer [B, I]
  size_t packed_x_stride = 0;
  const float* w_ih = nullptr;    // W_ih [G·H, I] when the pack has no packed W_ihᵀ
  const float* inputs = nullptr;  // x [T, B, I]

  ForwardPass(const SeqShape& s, const LayerPack& layer, bool train, int thread_count)
      : shape(s), cell(s.traits()), pack(layer), k(*layer.kernels), T(s.steps), B(s.batch), I(s.input), H(s.hidden), S(s.state()),
        G(s.gates()), GH(s.gates() * s.hidden), proj(s.proj > 0), training(train), threads(thread_count) {
    // A step reads every weight once. At batch 1 that read dominates: 4 bytes from L2 (~100 GB/s
    // here) cost about as much as 4 multiply-adds, so a step counts at least 4 per weight. A
    // one-sequence step of a 1.5 MB layer (LSTM 128→256) then splits across two cores, each keeping
    // its half of the weights in its own L2: 20 → 10 µs.
    const double input_work = pack.packed_inputs ? double(B) * GH * I : 0.0;
    const double weights = double(GH) * (S + (pack.packed_inputs ? I : 0));
    units = split_columns(H, k.gemm_nr, std::max(step_work(shape) + input_work, 4 * weights), threads);
    outputs = split_columns(S, k.gemm_nr, step_work(shape), threads);
  }

  // Working memory (see carve_workspace); in training, the states live in the cache instead.
  void carve(Carver& carver) {
    const size_t TB = size_t(T) * B;
    if (!training) {
      gates = carver.take(checked_product({TB, size_t(GH)}));
      h_states = carver.take(2 * size_t(B) * S);
      c_states = carver.take(2 * size_t(B) * H);
      h_pre = carver.take(size_t(B) * H);
      if (shape.recurrent_mask) hm_states = carver.take(2 * size_t(B) * S);
    }
    if (shape.input_mask) x_masked = carver.take(checked_product({TB, size_t(I)}));
    if (cell.split_recurrent) hh = carver.take(size_t(B) * GH);
    if (!pack.packed_inputs) gemm_workspace = carver.take(sgemm_workspace_floats(k, threads, T * B, GH, I));
    for (float*& rows : packed_h) rows = carver.take(packed_rows_floats(k, B, S));
    if (proj) packed_h_pre = carver.take(packed_rows_floats(k, B, H));
    packed_x_stride = pack.packed_inputs ? packed_rows_floats(k, B, I) : 0;
    packed_x = carver.take(checked_product({packed_x_stride, size_t(units.parts)}));
  }

  // The training cache's arrays (see CacheLayout).
  void use_cache(float* cache) {
    const CacheLayout L = cache_layout(shape);
    gates = cache + L.gates;
    h_states = cache + L.h_all;
    c_states = cache + L.c_all;
    hn_cache = cell.split_recurrent ? cache + L.hn : nullptr;
    h_pre = cache + L.h_pre;
    hm_states = shape.recurrent_mask ? cache + L.h_masked : nullptr;
  }

  size_t slot_index(int slot) const { return training ? slot : (slot & 1); }
  float* h_slot(int slot) const { return h_states + slot_index(slot) * B * S; }
  float* c_slot(int slot) const { return c_states + slot_index(slot) * B * H; }
  float* hm_slot(int slot) const { return hm_states + slot_index(slot) * B * S; }
  // What the recurrent GEMM reads in slot `slot`: h, or h ⊙ recurrent_mask.
  const float* recurrent_input(int slot) const { return hm_states ? hm_slot(slot) : h_slot(slot); }
  float* gates_at(int t) const { return gates + static_cast<size_t>(t) * B * GH; }
  float* h_pre_at(int t) const { return h_pre + (training ? static_cast<size_t>(t) * B * H : 0); }
  // Rows a step multiplies: packed (several rows), or the row itself (one: the gemv kernel reads it).
  PackedRows rows(float* packed, const float* row, int width) const { return {B > 1 ? packed : row, B, width}; }

  // gates = x · W_ihᵀ for every step in one GEMM (biases are added per step, while the step's slice
  // is in cache). With packed W_ihᵀ (a prepared layer, streaming) each step projects its own inputs
  // for the units it owns instead: a thread then reads the same slice of the weights every call,
  // which stays in its core's cache. Each sum is the same as sgemm's.
  void project_inputs(const float* x) {
    inputs = x;
    if (x_masked) {
      mask_rows(x_masked, x, shape.input_mask, size_t(T) * B, I, B);
      inputs = x_masked;
    }
    if (!pack.packed_inputs) {
      sgemm(k, threads, gemm_workspace, Trans::No, Trans::Yes, T * B, GH, I, inputs, I, w_ih, I, gates, GH, false);
    }
  }

  // hm[slot][b, c0:c1] = h[slot][b, c0:c1] ⊙ recurrent_mask[b, c0:c1] (with a recurrent mask).
  void mask_state(int slot, int b, int c0, int c1) const {
    if (!hm_states) return;
    const size_t at = size_t(b) * S + c0;
    mask_rows(hm_slot(slot) + at, h_slot(slot) + at, shape.recurrent_mask + at, 1, c1 - c0, 1);
  }

  void set_initial_state(const float* h0, const float* c0) {
    const int slot = slot_before(shape, time_at(shape, 0));
    if (h0) std::memcpy(h_slot(slot), h0, sizeof(float) * B * S);
    else std::fill_n(h_slot(slot), size_t(B) * S, 0.0f);
    for (int b = 0; b < B; ++b) mask_state(slot, b, 0, S);
    pack_rows_columns(k, B, S, recurrent_input(slot), S, 0, S, packed_h[0]);
    if (!cell.cell_state) return;
    if (c0) std::memcpy(c_slot(slot), c0, sizeof(float) * B * H);
    else std::fill_n(c_slot(slot), size_t(B) * H, 0.0f);
  }

  // Units [j0, j1) of step t (task `part` of the region): recurrent GEMM for those columns of every
  // gate (the recurrent input packed once for all gates, as h_rows), then the gate kernel; the new
  // recurrent input (or h_pre) of these units is packed for the next product (next_h: the next
  // step's h_rows).
  void step_units(int t, int part, int j0, int j1, const PackedRows& h_rows, float* next_h) {
    float* g_t = gates_at(t);
    const bool split = cell.split_recurrent;
    if (pack.packed_inputs) {
      const PackedRows x_t = pack_rows(k, B, I, inputs + size_t(t) * B * I, I, packed_x + part * packed_x_stride);
      for (int g = 0; g < G; ++g) sgemm_packed(j0, j1, x_t, pack.w_ih_t[g], g_t + g * H, GH, false);
    }
    if (pack.has_bias) add_bias_to_units(g_t, j0, j1);
    float* rec = split ? hh : g_t;
    for (int g = 0; g < G; ++g) sgemm_packed(j0, j1, h_rows, pack.w_hh_t[g], rec + g * H, GH, !split);
    for (int b = 0; b < B; ++b) {
      if (is_active(shape, t, b)) update_units(t, b, j0, j1 - j0);
      else carry_state(t, b, j0, j1 - j0);
      if (!proj) mask_state(slot_after(shape, t), b, j0, j1);
    }
    if (proj) pack_rows_columns(k, B, H, h_pre_at(t), H, j0, j1, packed_h_pre);
    else pack_rows_columns(k, B, S, recurrent_input(slot_after(shape, t)), S, j0, j1, next_h);
  }

  // The fused gate kernel and state update for item b's units [j0, j0 + n) at step t.
  void update_units(int t, int b, int j0, int n) {
    const size_t gb = size_t(b) * GH + j0;
    CellStep step{};
    step.n = n;
    step.gs = H;
    step.gates = gates_at(t) + gb;
    if (!proj) step.h_prev = h_slot(slot_before(shape, t)) + size_t(b) * S + j0;
    step.h = (proj ? h_pre_at(t) + size_t(b) * H : h_slot(slot_after(shape, t)) + size_t(b) * S) + j0;
    if (cell.cell_state) {
      step.c_prev = c_slot(slot_before(shape, t)) + size_t(b) * H + j0;
      step.c = c_slot(slot_after(shape, t)) + size_t(b) * H + j0;
    }
    if (cell.split_recurrent) {
      step.hh = hh + gb;
      step.b_hh = pack.bias_hh + j0;
      step.hn = hn_cache ? hn_cache + (size_t(t) * B + b) * H + j0 : nullptr;
    }
    k.cells[static_cast<int>(shape.cell)].forward(step);
    if (!proj && y) std::memcpy(y + (size_t(t) * B + b) * S + j0, step.h, sizeof(float) * n);
  }

  // g_t[b, g·H + j] += bias_x[g·H + j] for the units [j0, j1) of every gate and row.
  void add_bias_to_units(float* g_t, int j0, int j1) const {
    for (int b = 0; b < B; ++b) {
      for (int g = 0; g < G; ++g) {
        float* row = g_t + size_t(b) * GH + g * H;
        const float* bias = pack.bias_x + g * H;
        for (int j = j0; j < j1; ++j) row[j] += bias[j];
      }
    }
  }

  // Item b has no data at time t: its state passes through unchanged and its output is zero.
  void carry_state(int t, int b, int j0, int n) {
    if (cell.cell_state) {
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

  // Output columns [p0, p1) of step t: h = h_pre · W_hrᵀ, its recurrent input packed for the next
  // step (next_h).
  void project_state(int t, int p0, int p1, float* next_h) {
    const float* h_prev = h_slot(slot_before(shape, t));
    float* h_new = h_slot(slot_after(shape, t));
    sgemm_packed(p0, p1, rows(packed_h_pre, h_pre_at(t), H), pack.w_hr_t, h_new, S, false);
    for (int b = 0; b < B; ++b) {
      float* h_row = h_new + size_t(b) * S + p0;
      const bool active = is_active(shape, t, b);
      if (!active) std::memcpy(h_row, h_prev + size_t(b) * S + p0, sizeof(float) * (p1 - p0));
      mask_state(slot_after(shape, t), b, p0, p1);
      if (!y) continue;
      float* y_row = y + (size_t(t) * B + b) * S + p0;
      if (active) std::memcpy(y_row, h_row, sizeof(float) * (p1 - p0));
      else std::fill_n(y_row, p1 - p0, 0.0f);
    }
    pack_rows_columns(k, B, S, recurrent_input(slot_after(shape, t)), S, p0, p1, next_h);
  }

  void run_steps() {
    for (int s = 0; s < T; ++s) {
      const int t = time_at(shape, s);
      const PackedRows h_rows = rows(packed_h[s & 1], recurrent_input(slot_before(shape, t)), S);
      float* next_h = packed_h[(s + 1) & 1];
      parallel_for(units.parts, [&](int part) { step_units(t, part, units.begin(part), units.end(part), h_rows, next_h); });
      if (proj) {
        parallel_for(outputs.parts, [&](int part) { project_state(t, outputs.begin(part), outputs.end(part), next_h); });
      }
    }
  }

  void write_final_state(float* h_n, float* c_n) const {
    const int slot = T > 0 ? slot_after(shape, time_at(shape, T - 1)) : 0;
    if (h_n) std::memcpy(h_n, h_slot(slot), sizeof(float) * B * S);
    if (c_n && cell.cell_state) std::memcpy(c_n, c_slot(slot), sizeof(float) * B * H);
  }
};

// Allocates the pass's working memory, then runs it; false (nothing written) if it could not.
bool run_forward(ForwardPass& pass, float* y, float* cache, const float* x, const float* h0, const float* c0,
                 float* h_n, float* c_n) {
  const Memory workspace = carve_workspace(pass);
  if (!workspace) return false;
  if (cache) pass.use_cache(cache);
  pass.y = y;
  pass.project_inputs(x);
  pass.set_initial_state(h0, c0);
  pass.run_steps();
  pass.write_final_state(h_n, c_n);
  return true;
}

}  // namespace

size_t forward_memory_bytes(const SeqShape& shape, bool training) {
  const LayerPack pack(kernels(), shape, false);
  ForwardPass pass(shape, pack, training, num_threads());
  return checked_sum(pack.bytes(), workspace_bytes(pass));
}

size_t forward_memory_bytes(const SeqShape& shape, const PreparedLayer& layer) {
  ForwardPass pass(shape, layer.pack(), false, num_threads());
  return workspace_bytes(pass);
}

bool sequence_forward(const SeqShape& shape, const SeqWeights& w, float* y, float* h_n, float* c_n,
                      const float* x, const float* h0, const float* c0, float* cache) {
  const FlushSubnormals flush;
  LayerPack pack(kernels(), shape, false);  // the ISA of this call, whatever set_isa does meanwhile
  if (!pack.pack(w)) return false;
  ForwardPass pass(shape, pack, cache != nullptr, num_threads());
  pass.w_ih = w.w_ih;
  return run_forward(pass, y, cache, x, h0, c0, h_n, c_n);
}

bool sequence_forward(const SeqShape& shape, const PreparedLayer& layer, float* y, float* h_n, float* c_n,
                      const float* x, const float* h0, const float* c0) {
  const FlushSubnormals flush;
  ForwardPass pass(shape, layer.pack(), false, num_threads());
  return run_forward(pass, y, nullptr, x, h0, c0, h_n, c_n);
}

}  // namespace rnnkit

// Sequence backward (BPTT) for RNN / LSTM / GRU, reading the cache of a training-mode forward.
//   per step, in reverse processing order:
//     dh_t = carried dh + dy_t; (LSTM proj: dh_pre = dh_t · W_hr)
//     region 1, split by hidden units: fused gate-gradient kernel → dgates_t, carried dc
//     region 2, split by state columns: carried dh (+)= dgates_t · W_hh
//   after the loop, one GEMM per gradient over all T·B rows: dx, dW_ih, dW_hh, dW_hr; biases as
//   column sums. Items without data at a step pass their state gradients through unchanged.
// Variational dropout: dW_ih reads x ⊙ input_mask (recomputed here) and dx is multiplied by the mask;
// the recurrent product's gradient reaches h_{t−1} through the recurrent mask, and dW_hh reads the
// masked states the forward cached.
#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "gemm_packed.h"
#include "kernels.h"
#include "sequence_common.h"
#include "subnormals.h"
#include "threads.h"

namespace rnnkit {
namespace {

struct BackwardPass {
  const SeqShape& shape;
  const CellTraits& cell;
  const SeqWeights& w;
  const Kernels& k;
  const int T, B, I, H, S, G, GH;
  const bool proj, split;  // split: the cell's recurrent product is kept apart (split_recurrent, GRU)
  const int threads;
  // The gate gradients overwrite the cache's gate activations (step t's gradients are written after
  // its activations were read): one T·B·G·H array less.
  const bool consume_cache;
  ColumnSplit units;   // per step: hidden units per thread (gate gradients)
  ColumnSplit states;  // per step: state columns per thread (dh · W_hh)

  // From the forward cache (see CacheLayout).
  const float* gates = nullptr;
  const float* h_states = nullptr;
  const float* c_states = nullptr;
  const float* hn_cache = nullptr;
  const float* h_pre = nullptr;
  const float* hm_states = nullptr;  // [T+1, B, S] h ⊙ recurrent_mask, or nullptr
  // Workspace.
  float* dgates = nullptr;    // [T, B, G·H] gradient of the gate pre-activations (input side)
  float* dgates_h = nullptr;  // [T, B, G·H] split: gradient of h·W_hhᵀ + b_hh; else = dgates
  float* dh_state = nullptr;  // [B, S] gradient flowing into the previous state
  float* dh_t = nullptr;      // [B, S] total gradient of this step's h
  float* dc_state = nullptr;  // [B, H] cell state (LSTM)
  float* dh_pre = nullptr;    // [B, H] LSTM proj: gradient of o ⊙ tanh(c)
  float* dproj = nullptr;     // [T, B, P] LSTM proj: dh_t per step, for dW_hr
  float* dh_masked = nullptr; // [B, S] recurrent mask: dgates_t · W_hh, before the mask
  float* x_masked = nullptr;  // [T, B, I] input mask: x ⊙ mask, for dW_ih
  float* gemm_workspace = nullptr;    // the weight-gradient sgemms, one after another
  float* packed_workspace = nullptr;  // per task of a step region: dh_t packed (projection)
  size_t packed_stride = 0;
  float* packed_dgates = nullptr;     // this step's dgates_h rows packed once, by the threads that made them
  float* bias_sums = nullptr;         // [G·H] column sums of dgates (added to both biases unless split)
  PackedMatrix w_hh_packed;  // W_hh [G·H, S]
  PackedMatrix w_hr_packed;  // W_hr [P, H]

  BackwardPass(const SeqShape& s, const SeqWeights& weights, const Kernels& kern, int thread_count, bool consume)
      : shape(s), cell(s.traits()), w(weights), k(kern), T(s.steps), B(s.batch), I(s.input),
        H(s.hidden), S(s.state()), G(s.gates()), GH(s.gates() * s.hidden), proj(s.proj > 0), split(cell.split_recurrent),
        threads(thread_count),
        consume_cache(consume),
        units(split_columns(H, kern.gemm_nr, step_work(s), thread_count)),
        states(split_columns(S, kern.gemm_nr, step_work(s), thread_count)) {}

  // Working memory (see carve_workspace).
  void carve(Carver& carver) {
    const size_t TB = size_t(T) * B;
    if (!consume_cache) dgates = carver.take(checked_product({TB, size_t(GH)}));
    dgates_h = split ? carver.take(checked_product({TB, size_t(GH)})) : dgates;
    dh_state = carver.take(size_t(B) * S);
    dh_t = carver.take(size_t(B) * S);
    dc_state = carver.take(size_t(B) * H);
    dh_pre = carver.take(size_t(B) * H);
    if (proj) dproj = carver.take(checked_product({TB, size_t(S)}));
    if (shape.recurrent_mask) dh_masked = carver.take(size_t(B) * S);
    if (shape.input_mask) x_masked = carver.take(checked_product({TB, size_t(I)}));
    const int rows = T * B;
    size_t gemm = std::max({sgemm_workspace_floats(k, threads, rows, I, GH), sgemm_workspace_floats(k, threads, GH, I, rows),
                            sgemm_workspace_floats(k, threads, GH, S, rows)});
    if (proj) gemm = std::max(gemm, sgemm_workspace_floats(k, threads, S, H, rows));
    gemm_workspace = carver.take(gemm);
    packed_stride = proj ? packed_rows_floats(k, B, S) : 0;
    packed_workspace = carver.take(checked_product({packed_stride, size_t(units.parts)}));
    packed_dgates = carver.take(packed_rows_floats(k, B, GH));
    bias_sums = carver.take(GH);
  }

  // W_hh (and W_hr) packed for the per-step products; false if their memory could not be allocated.
  bool pack_weights() {
    return w_hh_packed.pack(k, Trans::No, GH, S, w.w_hh, S) && (!proj || w_hr_packed.pack(k, Trans::No, S, H, w.w_hr, H));
  }
  size_t packed_weights_bytes() const {
    const auto panels = [&](int rows, int cols) {
      return checked_product({size_t((cols + k.gemm_nr - 1) / k.gemm_nr * k.gemm_nr), size_t(rows), sizeof(float)});
    };
    return checked_sum(panels(GH, S), proj ? panels(S, H) : 0);
  }

  void use_cache(float* cache) {
    const CacheLayout L = cache_layout(shape);
    gates = cache + L.gates;
    if (consume_cache) {
      dgates = cache + L.gates;
      if (!split) dgates_h = dgates;
    }
    h_states = cache + L.h_all;
    c_states = cache + L.c_all;
    hn_cache = cache + L.hn;
    h_pre = cache + L.h_pre;
    hm_states = shape.recurrent_mask ? cache + L.h_masked : nullptr;
  }
  float* packed_workspace_of(int part) const { return packed_workspace + part * packed_stride; }

  const float* c_slot(int slot) const { return c_states + size_t(slot) * B * H; }
  const float* h_slot(int slot) const { return h_states + size_t(slot) * B * S; }

  void set_final_gradients(const float* dh_n, const float* dc_n) {
    if (dh_n) std::memcpy(dh_state, dh_n, sizeof(float) * B * S);
    else std::fill_n(dh_state, size_t(B) * S, 0.0f);
    if (!cell.cell_state) return;
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

  // Units [j0, j1) of step t (task `part` of the region): the fused gate-gradient kernel.
  void step_units(int t, int part, int j0, int j1) {
    const int n = j1 - j0;
    const float* dh_src = dh_t;
    int ld_src = S;
    if (proj) {
      sgemm_packed(B, j0, j1, dh_t, S, w_hr_packed, dh_pre, H, false, packed_workspace_of(part));
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
          if (split) std::fill_n(dgates_h + gb + g * H, n, 0.0f);
        }
        continue;
      }
      CellGradStep grad{};
      grad.n = n;
      grad.gs = H;
      grad.dgates = dg;
      grad.dgates_h = dgates_h + gb;
      grad.gates = gates + gb;
      grad.h = proj ? h_pre + (step + b) * H + j0 : h_slot(slot_after(shape, t)) + size_t(b) * S + j0;
      if (!proj) grad.h_prev = h_slot(slot_before(shape, t)) + size_t(b) * S + j0;
      if (cell.cell_state) {
        grad.c = c_slot(slot_after(shape, t)) + size_t(b) * H + j0;
        grad.c_prev = c_slot(slot_before(shape, t)) + size_t(b) * H + j0;
        grad.dc = dc_state + size_t(b) * H + j0;
      }
      if (split) grad.hn = hn_cache + (step + b) * H + j0;
      grad.dh = dh_src + size_t(b) * ld_src + j0;
      if (!proj) grad.dh_prev = dh_state + size_t(b) * S + j0;
      k.cells[static_cast<int>(shape.cell)].backward(grad);
    }
    // The dh GEMM of this step needs every thread's gradients packed: each packs its own units.
    const float* dg_t = dgates_h + step * GH;
    for (int g = 0; g < G; ++g) pack_rows_columns(k, B, GH, dg_t, GH, g * H + j0, g * H + j1, packed_dgates);
  }

  void run_steps(const float* dy) {
    for (int s = T - 1; s >= 0; --s) {
      const int t = time_at(shape, s);
      gather_step_gradient(t, dy);
      parallel_for(units.parts, [&](int part) { step_units(t, part, units.begin(part), units.end(part)); });
      const PackedRows dg_rows{B > 1 ? packed_dgates : dgates_h + size_t(t) * B * GH, B, GH};
      parallel_for(states.parts, [&](int part) { carry_through_w_hh(dg_rows, states.begin(part), states.end(part)); });
    }
  }

  // State columns [s0, s1): dh_state += dg_t · W_hh (dg_t packed once as dg_rows), through the
  // recurrent mask if any.
  void carry_through_w_hh(const PackedRows& dg_rows, int s0, int s1) {
    if (!shape.recurrent_mask) {
      sgemm_packed(s0, s1, dg_rows, w_hh_packed, dh_state, S, true);
      return;
    }
    sgemm_packed(s0, s1, dg_rows, w_hh_packed, dh_masked, S, false);
    for (int b = 0; b < B; ++b) {
      const size_t row = size_t(b) * S;
      for (int c = s0; c < s1; ++c) dh_state[row + c] += dh_masked[row + c] * shape.recurrent_mask[row + c];
    }
  }

  // C (+)= op(A) · op(B) on this pass's ISA, threads and workspace.
  void gemm(Trans ta, Trans tb, int m, int n, int kk, const float* a, int lda, const float* b, int ldb, float* c,
            int ldc, bool accumulate) {
    sgemm(k, threads, gemm_workspace, ta, tb, m, n, kk, a, lda, b, ldb, c, ldc, accumulate);
  }

  void weight_gradients(const SeqGrads& grads, float* dx, const float* x) {
    const int rows = T * B;
    if (dx) {
      gemm(Trans::No, Trans::No, rows, I, GH, dgates, GH, w.w_ih, I, dx, I, false);
      if (shape.input_mask) mask_rows(dx, dx, shape.input_mask, rows, I, B);
    }
    if (x_masked) {
      mask_rows(x_masked, x, shape.input_mask, rows, I, B);
      x = x_masked;
    }
    gemm(Trans::Yes, Trans::No, GH, I, rows, dgates, GH, x, I, grads.w_ih, I, true);
    const int first_slot = shape.reverse ? 1 : 0;  // [T·B, S] rows: the state each step read
    const float* h_prev_all = hm_states ? hm_states + size_t(first_slot) * B * S : h_slot(first_slot);
    gemm(Trans::Yes, Trans::No, GH, S, rows, dgates_h, GH, h_prev_all, S, grads.w_hh, S, true);
    if (grads.b_ih) {
      // Unless split (LSTM, RNN): both biases get the column sums of the same gate gradients, summed once.
      std::fill_n(bias_sums, GH, 0.0f);
      add_column_sums(bias_sums, dgates, rows, GH, threads);
      for (int j = 0; j < GH; ++j) grads.b_ih[j] += bias_sums[j];
      if (!split) {
        for (int j = 0; j < GH; ++j) grads.b_hh[j] += bias_sums[j];
      }
    }
    if (grads.b_hh && split) add_column_sums(grads.b_hh, dgates_h, rows, GH, threads);
    if (proj && grads.w_hr) gemm(Trans::Yes, Trans::No, S, H, rows, dproj, S, h_pre, H, grads.w_hr, H, true);
  }

  void write_initial_gradients(float* dh0, float* dc0) const {
    if (dh0) std::memcpy(dh0, dh_state, sizeof(float) * B * S);
    if (dc0 && cell.cell_state) std::memcpy(dc0, dc_state, sizeof(float) * B * H);
  }
};

}  // namespace

size_t backward_memory_bytes(const SeqShape& shape, bool consume_cache) {
  const SeqWeights none;
  BackwardPass pass(shape, none, kernels(), num_threads(), consume_cache);
  return checked_sum(pass.packed_weights_bytes(), workspace_bytes(pass));
}

bool sequence_backward(const SeqShape& shape, const SeqWeights& w, const SeqGrads& grads, float* dx,
                       float* dh0, float* dc0, const float* dy, const float* dh_n, const float* dc_n,
                       const float* x, float* cache, bool consume_cache) {
  const FlushSubnormals flush;
  BackwardPass pass(shape, w, kernels(), num_threads(), consume_cache);  // one ISA for the whole call
  const Memory workspace = carve_workspace(pass);
  if (!workspace || !pass.pack_weights()) return false;
  pass.use_cache(cache);
  pass.set_final_gradients(dh_n, dc_n);
  pass.run_steps(dy);
  pass.weight_gradients(grads, dx, x);
  pass.write_initial_gradients(dh0, dc0);
  return true;
}

}  // namespace rnnkit

// Pieces shared by sequence forward and backward: the training-cache layout, step order and
// per-item activity, the split of hidden units across threads, and working memory.
#pragma once

#include <cstddef>

#include "rnnkit/memory.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

// Offsets (in floats) of the arrays inside one training cache. Slot k of h_all/c_all is the state
// after k processed steps in *time* order: step t reads slot t (forward) or t+1 (reverse) and writes
// the other, so the initial state sits in slot 0 (forward) or slot T (reverse).
struct CacheLayout {
  size_t gates;  // [T, B, G·H]  gate activations (LSTM i,f,g,o; GRU r,z,n; RNN pre-activation)
  size_t h_all;  // [T+1, B, S]  hidden states
  size_t c_all;  // [T+1, B, H]  cell states (cells with a cell state: LSTM)
  size_t hn;     // [T, B, H]    W_hn·h + b_hn (split_recurrent: GRU)
  size_t h_pre;  // [T, B, H]    h before the projection (LSTM with proj: o ⊙ tanh(c))
  size_t h_masked;  // [T+1, B, S] h_all ⊙ recurrent_mask, what W_hh reads (recurrent dropout)
  size_t total;  // SIZE_MAX when the shape's sizes overflow (then the other offsets mean nothing)
};
CacheLayout cache_layout(const SeqShape& shape);

// Time order of processing: step s (0-based) handles time index t.
inline int time_at(const SeqShape& shape, int s) { return shape.reverse ? shape.steps - 1 - s : s; }
// State slots read and written at time t (see CacheLayout).
inline int slot_before(const SeqShape& shape, int t) { return shape.reverse ? t + 1 : t; }
inline int slot_after(const SeqShape& shape, int t) { return shape.reverse ? t : t + 1; }
// Whether batch item b has data at time t (packed-sequence semantics).
inline bool is_active(const SeqShape& shape, int t, int b) {
  return shape.lengths == nullptr || t < shape.lengths[b];
}

// Multiply-adds of one step's recurrent GEMM: the size that decides how many threads a step gets.
inline double step_work(const SeqShape& shape) {
  return double(shape.batch) * shape.gates() * shape.hidden * shape.state();
}

// Column ranges [begin, end) that split `count` columns into `parts` ≤ `threads` pieces whose starts
// are multiples of `align` (the GEMM panel width). `work` is the region's total cost in
// multiply-adds: a region too small to repay waking another thread (and waiting for it at the
// barrier, which on a busy machine can cost far more than the work) runs on the calling thread alone.
struct ColumnSplit {
  int count;
  int align;
  int parts;
  int begin(int part) const;
  int end(int part) const { return part + 1 == parts ? count : begin(part + 1); }
};
ColumnSplit split_columns(int count, int align, double work, int threads);

// A pass's working memory: sized by a first pass.carve(Carver&) without memory, allocated, then
// carved for real (the same code both times). nullptr when it could not be allocated.
template <class Pass>
Memory carve_workspace(Pass& pass) {
  Carver sizing;
  pass.carve(sizing);
  Memory memory = allocate_memory(sizing.bytes());
  if (!memory) return nullptr;
  Carver slices(memory->data);
  pass.carve(slices);
  return memory;
}
template <class Pass>
size_t workspace_bytes(Pass& pass) {
  Carver sizing;
  pass.carve(sizing);
  return sizing.bytes();
}

// out[r, c] = x[r, c] · mask[r mod mask_rows, c] for r < rows (out may be x): a per-sequence mask
// [B, cols] applied to every step of [T·B, cols].
void mask_rows(float* out, const float* x, const float* mask, size_t rows, int cols, int mask_rows);

// out[cols] += Σ_r m[r, cols] (row stride cols), summed in row order (deterministic).
void add_column_sums(float* out, const float* m, int rows, int cols, int threads);

}  // namespace rnnkit

// rnnkit — the recurrent cells, in one table: each cell's name and what the sequence passes need to
// know of it. The passes (native/src) read these traits, never a cell by name; a cell's arithmetic
// lives in its fused kernels (native/isa/pointwise-inl.h). Adding a cell: docs/architecture.md.
// Data and compile-time checks only (nothing here runs): the ISA files include it, and no inline code
// may be shared with them.
#pragma once

namespace rnnkit {

// The binding numbers the cells in this order (native/binding/sequence_args.cpp, src/cell-table.ts).
enum class Cell { RnnTanh, RnnRelu, Lstm, Gru };
constexpr int kCellCount = 4;

struct CellTraits {
  Cell cell;
  const char* name;      // as the binding and TypeScript spell it
  int gates;             // G: gate blocks stacked in the rows of each weight
  bool cell_state;       // carries c [B, H] beside h (LSTM): c0, c_n, dc0, dc_n
  bool projection;       // may project h to proj < hidden (PyTorch: LSTM only)
  // h_prev·W_hhᵀ + b_hh is kept apart from the input side instead of summed into the gates, and
  // W_hn·h + b_hn cached for backward (GRU: r ⊙ (W_hn h + b_hn)).
  bool split_recurrent;
};

// Indexed by Cell.
constexpr CellTraits kCells[kCellCount] = {
    {Cell::RnnTanh, "rnn_tanh", 1, false, false, false},
    {Cell::RnnRelu, "rnn_relu", 1, false, false, false},
    {Cell::Lstm, "lstm", 4, true, true, false},
    {Cell::Gru, "gru", 3, false, false, true},
};

// The most gate blocks a cell may have (the packed layers keep one panel set per block).
constexpr int kMaxGates = 4;

constexpr bool cells_well_formed() {
  for (int i = 0; i < kCellCount; ++i) {
    if (static_cast<int>(kCells[i].cell) != i || kCells[i].gates < 1 || kCells[i].gates > kMaxGates) return false;
  }
  return true;
}
static_assert(cells_well_formed(), "kCells lists the cells in the order of enum class Cell, each with 1 to kMaxGates gates");

}  // namespace rnnkit

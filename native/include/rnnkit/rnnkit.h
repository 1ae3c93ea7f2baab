// rnnkit — the C++ API: recurrent sequence layers (RNN, LSTM, GRU) on plain float arrays.
// Layout: time-major, row-major, PyTorch's parameter shapes and gate order. No Node headers here.
#pragma once

#include <cstddef>
#include <memory>

#include "rnnkit/cells.h"
#include "rnnkit/memory.h"

namespace rnnkit {

// Gate blocks per cell: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n) — kCells[cell].gates.
int gate_count(Cell cell);
// The row of kCells (rnnkit/cells.h) that describes `cell`.
const CellTraits& cell_traits(Cell cell);

// Sizes of one sequence layer in one direction.
struct SeqShape {
  Cell cell = Cell::Lstm;
  int steps = 0;       // T
  int batch = 0;       // B
  int input = 0;       // I
  int hidden = 0;      // H
  int proj = 0;        // P: LSTM projection size (PyTorch proj_size), 0 = none
  bool reverse = false;        // process steps T-1 … 0 (second direction of a bidirectional layer)
  const int* lengths = nullptr;  // [B] valid steps per batch item, each in [0, T]; nullptr = all T
  // Variational dropout (Gal & Ghahramani 2016): one multiplier per batch item and feature, used at
  // every step (0 or 1/(1−p) for dropout p); nullptr = none. Backward must get the same masks.
  const float* input_mask = nullptr;      // [B, I]  the layer reads x_t ⊙ input_mask
  const float* recurrent_mask = nullptr;  // [B, S]  h_{t−1} enters W_hh as h_{t−1} ⊙ recurrent_mask

  int gates() const { return gate_count(cell); }
  const CellTraits& traits() const { return cell_traits(cell); }
  int state() const { return proj > 0 ? proj : hidden; }  // S: width of h and of the output
};

// Whether the core can run this shape: steps, batch, input and hidden ≥ 1, 0 ≤ proj < hidden (LSTM
// only; 0 otherwise), and the products it indexes with int (steps·batch, gates·hidden) ≤ INT_MAX.
bool shape_fits(const SeqShape& shape);

// PyTorch's parameters of one layer/direction, row-major, applied as x·Wᵀ.
struct SeqWeights {
  const float* w_ih = nullptr;  // [G·H, I]
  const float* w_hh = nullptr;  // [G·H, S]
  const float* b_ih = nullptr;  // [G·H], nullptr when bias=False
  const float* b_hh = nullptr;  // [G·H], nullptr when bias=False
  const float* w_hr = nullptr;  // [P, H], LSTM with projection only
};

// Gradients of SeqWeights; backward ADDS into them (so layers/steps can accumulate).
struct SeqGrads {
  float* w_ih = nullptr;
  float* w_hh = nullptr;
  float* b_ih = nullptr;  // nullptr when bias=False
  float* b_hh = nullptr;
  float* w_hr = nullptr;
};

// Floats of the training cache forward writes and backward reads (layout private to the core).
// Saturates at SIZE_MAX for shapes whose size does not fit (no allocation can satisfy it).
size_t cache_size(const SeqShape& shape);

// Bytes of working memory one sequence_forward / sequence_backward call allocates besides its
// arguments and the cache, with the thread count set now (for checking a call against a limit).
size_t forward_memory_bytes(const SeqShape& shape, bool training);
size_t backward_memory_bytes(const SeqShape& shape, bool consume_cache);

// Memory: the core never throws and never aborts on a failed allocation. The calls below allocate
// all their working memory (from rnnkit/memory.h's cache) before they start, and return false,
// having written nothing, when they could not.

// Sequence forward.
//   y     [T, B, S]  outputs; zero at steps past an item's length
//   h_n   [B, S]     final hidden state (each item's state at its own last step)
//   c_n   [B, H]     final cell state (LSTM only, else ignored)
//   x     [T, B, I]
//   h0    [B, S]     initial hidden state, nullptr = zeros
//   c0    [B, H]     initial cell state (LSTM), nullptr = zeros
//   cache [cache_size(shape)] training mode; nullptr = inference (nothing cached)
// The ISA active at the call is used throughout it (set_isa meanwhile does not affect it).
bool sequence_forward(const SeqShape& shape, const SeqWeights& w, float* y, float* h_n, float* c_n,
                      const float* x, const float* h0, const float* c0, float* cache);

// Sequence backward (BPTT) from the cache of a training-mode forward with the same arguments (masks
// included).
//   dx    [T, B, I]  written (gradient of x itself: through input_mask); nullptr = not needed (skips its GEMM)
//   dh0   [B, S]     written
//   dc0   [B, H]     written (LSTM only, else ignored)
//   grads            accumulated (+=)
//   dy    [T, B, S]  gradient of y, nullptr = zeros
//   dh_n  [B, S]     gradient of h_n, nullptr = zeros
//   dc_n  [B, H]     gradient of c_n (LSTM), nullptr = zeros
//   consume_cache    the caller is done with the cache: backward may overwrite it (its gate gradients
//                    then take the place of the gate activations: T·B·G·H floats less working memory)
bool sequence_backward(const SeqShape& shape, const SeqWeights& w, const SeqGrads& grads, float* dx,
                       float* dh0, float* dc0, const float* dy, const float* dh_n, const float* dc_n,
                       const float* x, float* cache, bool consume_cache = false);

// ---- Prepared layers: streaming inference -----------------------------------------------------
// A layer's weights packed once for the multiply kernels (W_ihᵀ, W_hhᵀ, W_hrᵀ per gate block, the
// bias sums), for the ISA active when it is made. Streaming inference runs one step per call, where
// packing the weights again would cost more than the step itself. The weights are copied: later
// changes to them need a new PreparedLayer.
struct LayerPack;
class PreparedLayer {
 public:
  // Uses the cell and sizes (input, hidden, proj) of `layer`; its steps, batch, reverse and lengths
  // are ignored. nullptr when the packed weights' memory could not be allocated.
  static std::unique_ptr<PreparedLayer> create(const SeqShape& layer, const SeqWeights& w);
  static size_t bytes(const SeqShape& layer);  // the memory create() allocates
  ~PreparedLayer();
  PreparedLayer(const PreparedLayer&) = delete;
  PreparedLayer& operator=(const PreparedLayer&) = delete;

  const char* isa() const;                     // the ISA whose kernels it was packed for
  bool fits(const SeqShape& shape) const;      // same cell, input, hidden and proj
  const LayerPack& pack() const { return *pack_; }

 private:
  explicit PreparedLayer(std::unique_ptr<LayerPack> pack);
  std::unique_ptr<LayerPack> pack_;
};

// Bytes of working memory sequence_forward with `layer` allocates for one call of this shape.
size_t forward_memory_bytes(const SeqShape& shape, const PreparedLayer& layer);

// Inference forward (nothing cached) with prepared weights, on the ISA they were packed for: the
// same arguments and results as sequence_forward with cache = nullptr, bit for bit. shape must fit
// the layer. h_n and c_n may be the same arrays as h0 and c0 (a stream's state updated in place).
// False (nothing written) when its working memory could not be allocated.
bool sequence_forward(const SeqShape& shape, const PreparedLayer& layer, float* y, float* h_n, float* c_n,
                      const float* x, const float* h0, const float* c0);

// ---- Instruction-set dispatch -------------------------------------------------------------------
// Names: "avx512", "avx2", "neon", "scalar". The best available is chosen at first use, unless the
// environment variable RNNKIT_ISA names another available one.
const char* active_isa();
bool set_isa(const char* name);          // false if unknown or not supported by this CPU/build
int available_isas(const char** names);  // fills up to 4 names, best first; returns the count

// ---- Threads ------------------------------------------------------------------------------------
// A persistent pool used by GEMM and the per-step work. Default: the cores this process may use.
void set_num_threads(int n);  // n >= 1
int num_threads();

// ---- Elementwise --------------------------------------------------------------------------------
// y[i] = tanh(x[i]) to a few ulp relative, NaN propagating, with the active ISA's kernel, on the
// calling thread (y may alias x). The tensor op's tanh; the fused cells have their own.
void tanh_array(float* y, const float* x, size_t n);

// ---- SGEMM --------------------------------------------------------------------------------------
enum class Trans { No, Yes };

// C[M,N] = op(A)[M,K] · op(B)[K,N]  (+ C when accumulate). Row-major; lda/ldb/ldc are the row
// strides of A, B, C as stored. Parallel on the pool (serial when called from a pool task). False
// (C untouched) when its packing memory could not be allocated.
bool sgemm(Trans trans_a, Trans trans_b, int m, int n, int k, const float* a, int lda,
           const float* b, int ldb, float* c, int ldc, bool accumulate);

// `batch` independent contiguous products C_i = op(A_i)·op(B_i) (+ C_i), A_i = a + i·m·k, B_i =
// b + i·k·n, C_i = c + i·m·n (lda/ldb/ldc as stored: packed rows). Items are spread over the pool,
// each on one thread: the same bits as `batch` sgemm calls. False (C untouched) without memory.
bool sgemm_batched(Trans trans_a, Trans trans_b, int batch, int m, int n, int k, const float* a, const float* b,
                   float* c, bool accumulate);

}  // namespace rnnkit

// One layer's weights in the form the forward steps multiply with: the recurrent (and projection)
// weights transposed and packed per gate block, so a thread owning a range of hidden units reads
// whole panels of every gate, and the bias vectors summed once.
#pragma once

#include "gemm_packed.h"
#include "kernels.h"
#include "rnnkit/memory.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

struct LayerPack {
  const Kernels* kernels;   // the ISA the panels are packed for
  Cell cell;
  int input, hidden, proj;  // I, H, P
  bool has_bias = false;
  bool packed_inputs;       // w_ih_t holds W_ihᵀ (else the caller projects the inputs with sgemm)
  PackedMatrix w_ih_t[kMaxGates];  // per gate block g: W_ih[g]ᵀ [I, H]   (packed_inputs only)
  PackedMatrix w_hh_t[kMaxGates];  // per gate block g: W_hh[g]ᵀ [S, H]
  PackedMatrix w_hr_t;      // W_hrᵀ [H, P]                        (projection only)
  const float* bias_x = nullptr;   // [G·H] added to x·W_ihᵀ: b_ih, + b_hh unless split_recurrent (zeros without bias)
  const float* bias_hh = nullptr;  // [G·H] a split_recurrent cell's b_hh (GRU: r ⊙ (W_hn h + b_hn)); zeros otherwise

  // The layer's sizes, for kernels `kern`; nothing packed yet. pack_inputs: W_ihᵀ is packed too
  // (worth it when the same weights serve many calls; one sequence's single input GEMM packs them
  // itself).
  LayerPack(const Kernels& kern, const SeqShape& layer, bool pack_inputs);

  // Bytes pack() allocates.
  size_t bytes() const;
  // Packs the weights; false when the memory could not be allocated.
  bool pack(const SeqWeights& w);

 private:
  Memory biases_;  // bias_x, then bias_hh
};

}  // namespace rnnkit

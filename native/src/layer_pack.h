// One layer's weights in the form the forward steps multiply with: the recurrent (and projection)
// weights transposed and packed per gate block, so a thread owning a range of hidden units reads
// whole panels of every gate, and the bias vectors summed once.
#pragma once

#include <vector>

#include "gemm_packed.h"
#include "kernels.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

struct LayerPack {
  const Kernels* kernels;   // the ISA the panels were packed for
  Cell cell;
  int input, hidden, proj;  // I, H, P
  bool has_bias;
  bool packed_inputs;       // w_ih_t holds W_ihᵀ (else the caller projects the inputs with sgemm)
  PackedMatrix w_ih_t[4];   // per gate block g: W_ih[g]ᵀ [I, H]   (packed_inputs only)
  PackedMatrix w_hh_t[4];   // per gate block g: W_hh[g]ᵀ [S, H]
  PackedMatrix w_hr_t;      // W_hrᵀ [H, P]                        (projection only)
  std::vector<float> bias_x;   // [G·H] added to x·W_ihᵀ: b_ih, + b_hh except for GRU (zeros without bias)
  std::vector<float> bias_hh;  // [G·H] GRU's b_hh, kept apart for r ⊙ (W_hn h + b_hn); zeros otherwise

  // Packs with the active ISA's kernels. pack_inputs: also pack W_ihᵀ (worth it when the same
  // weights serve many calls; one sequence's single input GEMM packs them itself).
  LayerPack(const SeqShape& layer, const SeqWeights& w, bool pack_inputs);
};

}  // namespace rnnkit

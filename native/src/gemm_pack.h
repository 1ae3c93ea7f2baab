// Packing SGEMM operands into the micro-kernel's panel layout (see kernels.h): contiguous,
// k-major panels, zero-padded to whole panels, so the micro-kernel never sees strides or tails.
#pragma once

#include <cstddef>

namespace rnnkit {

// op(X) for a row-major X with row stride ld: op(X)(r, c) = transposed ? X[c][r] : X[r][c].
struct Operand {
  const float* data;
  int ld;
  bool transposed;
  const float* at(int r, int c) const {
    return transposed ? data + static_cast<size_t>(c) * ld + r : data + static_cast<size_t>(r) * ld + c;
  }
};

// op(A)[row0 : row0+mc, col0 : col0+kc] → ceil(mc / mr) panels [kc][mr]; rows past mc are zero.
// Panels are panel_stride floats apart (0: kc·mr, packed tight); a larger stride writes these kc
// rows into panels of a longer k block.
void pack_a(const Operand& a, int row0, int col0, int mc, int kc, int mr, float* dst, size_t panel_stride = 0);

// op(B)[row0 : row0+kc, col0 : col0+nc] → ceil(nc / nr) panels [kc][nr]; columns past nc are zero.
void pack_b(const Operand& b, int row0, int col0, int kc, int nc, int nr, float* dst);

}  // namespace rnnkit
